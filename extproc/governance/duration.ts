// Durations in config are written like "24h", "90m", "30s", "7d" so YAML stays readable.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDurationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}" (use e.g. 30s, 15m, 24h, 7d)`);
  const [, amount, unit] = match;
  return Number(amount) * (UNIT_MS[unit as string] as number);
}
