// Injected side effects: the routing decision never reads the wall clock or Math.random itself,
// so tests (and dry runs) can drive both.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** Returns a float in [0, 1), like Math.random. */
export type Random = () => number;
