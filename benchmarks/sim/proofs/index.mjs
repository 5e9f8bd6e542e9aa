import hedging from './hedging.mjs';
import overload from './overload.mjs';
import priorities from './priorities.mjs';

/** The proofs `benchmarks/sim/run.mjs` runs, in the order of the issue that asked for them. */
export const proofs = [overload, priorities, hedging];
