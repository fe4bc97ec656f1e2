/** Supervised SAE evaluation against board state properties (metrics.md). Pure compute: no I/O. */
export * from './thresholds.js';
export * from './sparse.js';
export * from './maxima.js';
export * from './labels.js';
export * from './counts.js';
export * from './metrics.js';
export * from './alignments.js';
export * from './supervised.js';
export * from './reconstruction.js';
export * from './strategy.js';
export * from './top.js';
export * from './evaluate.js';
