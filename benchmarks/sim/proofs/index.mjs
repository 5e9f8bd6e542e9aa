/** The proofs `benchmarks/sim/run.mjs` runs, in the order of the issue that asked for them. */
import adaptive from './adaptive.mjs';
import rateLimit from './rate-limit.mjs';
import retryStorm from './retry-storm.mjs';

export const proofs = [retryStorm, adaptive, rateLimit];
