/** Game datasets: one directory format for both games (docs/datasets.md). */
export * from './adapters.js';
export * from './format.js';
export * from './import.js';
export * from './reader.js';
export * from './sources.js';
export * from './writer.js';
