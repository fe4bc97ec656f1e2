/** Analyses on top of a stored evaluation: feature tracking, absorption/splitting, explanations (docs/analyses.md). */
export * from './linalg.js';
export * from './lap.js';
export * from './matching.js';
export * from './history.js';
export * from './groundtruth.js';
export * from './explanations.js';
export * from './scan.js';
