/**
 * A seeded pseudo-random generator (sfc32, seeded through splitmix32): the same seed gives the same
 * sequence on every machine, so grain, paper texture and halftone jitter never flicker from fresh
 * randomness and a job seed reproduces a video exactly.
 */
export interface Random {
  /** Next value in [0, 1). */
  next(): number;
  /** Next 32-bit unsigned integer. */
  nextUint32(): number;
  /** A generator for a sub-stream (per frame, per tile) that does not disturb this one. */
  fork(key: number): Random;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Create a seeded generator.
 *
 * @param seed - Any integer (only the low 32 bits count).
 * @returns The generator.
 * @example
 * ```ts
 * const rng = createRandom(42)
 * rng.next() // always the same first value for seed 42
 * ```
 */
export function createRandom(seed: number): Random {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const nextUint32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) nextUint32();
  return {
    next: () => nextUint32() / 4294967296,
    nextUint32,
    fork: (key: number) => createRandom((seed * 0x9e3779b1) ^ Math.imul(key + 1, 0x85ebca6b)),
  };
}
