/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/** splitmix32: spreads a seed's bits so that nearby seeds give unrelated states. */
function splitmix32(state: number): () => number {
  let s = state | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/**
 * A seeded xoshiro128** generator: the same seed gives the same sequence on every machine and
 * Node version, unlike `Math.random`. Hand it to policies that take a `random` option.
 */
export function createRandom(seed: number): Random {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new TypeError(`createRandom: seed must be a finite number (got ${String(seed)})`);
  }
  return xoshiro128(fold(seed));
}

/** A seed folded into 32 bits: its high part and any fraction still count. */
function fold(seed: number): number {
  return Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32) ^ ((seed % 1) * 2 ** 31);
}

function xoshiro128(seed: number): Random {
  const next = splitmix32(seed);
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Independent streams of one seed, one per source of randomness (arrivals, the dependency, the
 * policies), so that changing the policy under test does not change the arrivals it faces.
 */
export function streamOf(seed: number, stream: number): Random {
  return xoshiro128(fold(seed) ^ Math.imul(stream + 1, 0x85ebca6b));
}

/** A standard normal deviate (Box-Muller; one of the pair is dropped to keep no state). */
export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An exponential deviate with mean 1. */
export function exponential(random: Random): number {
  return -Math.log(1 - random());
}
