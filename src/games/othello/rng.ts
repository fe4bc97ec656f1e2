/** The seeded PRNG of the Othello generator: datasets are reproducible from (seed, code version). */
export { Sfc32 as Rng } from '../../util/sfc32.js';
