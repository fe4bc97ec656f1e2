export declare const WASM_DIR: string;
export declare const WASM_SGEMM_SOURCE: string;
export declare const WASM_SGEMM_FILE: string;
export declare const WASM_SGEMM_MANIFEST: string;
export declare const WASM_SGEMM_FLAGS: string[];
export declare function wasmSourceHash(): string;
