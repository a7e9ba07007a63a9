// Weighted random choice: index i is picked with probability weights[i] / sum(weights).

/**
 * `draw` is one value in [0, 1) from the injected random source. Returns -1 when no weight is
 * positive (the caller decides what that means). Non-finite or negative weights count as 0.
 */
export function pickWeighted(weights: readonly number[], draw: number): number {
  let total = 0;
  for (const weight of weights) if (weight > 0 && Number.isFinite(weight)) total += weight;
  if (total <= 0) return -1;
  let point = draw * total;
  let last = -1;
  for (let index = 0; index < weights.length; index++) {
    const weight = weights[index] ?? 0;
    if (!(weight > 0) || !Number.isFinite(weight)) continue;
    last = index;
    if (point < weight) return index;
    point -= weight;
  }
  // Floating-point residue when draw is just below 1: the last positive weight takes it.
  return last;
}
