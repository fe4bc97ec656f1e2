/** Othello: rules engine, tokenizer, random game generator, transcripts and BSP families. */
export * from './board.js';
export * from './bsp.js';
export * from './generator.js';
export * from './label.js';
export * from './perft.js';
export * from './rng.js';
export * from './tokenizer.js';
export * from './transcript.js';
