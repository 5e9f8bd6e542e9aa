import adaptive from './adaptive.mjs';
import hedging from './hedging.mjs';
import overload from './overload.mjs';
import priorities from './priorities.mjs';
import rateLimit from './rate-limit.mjs';
import retryStorm from './retry-storm.mjs';

/** The proofs `benchmarks/sim/run.mjs` runs, in the order of the issue that asked for them. */
export const proofs = [overload, priorities, retryStorm, hedging, adaptive, rateLimit];
