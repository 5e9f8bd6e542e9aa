import { createRandom, type Random } from '../sim/random.js';
import { behavior } from './behavior.js';
import { fault } from './fault.js';
import { latency } from './latency.js';
import { outcome } from './outcome.js';

/**
 * A seeded source of uniform random numbers in [0, 1) for the `random` option: the same seed
 * injects into the same calls on every machine and Node version, so a test can count them.
 */
function seeded(seed: number): Random {
  return createRandom(seed);
}

/** The chaos policies, with Simmy v8's semantics, and a seeded random source for them. */
export const chaos = { fault, latency, outcome, behavior, seeded } as const;
