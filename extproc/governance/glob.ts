// Glob patterns for model and provider names: `*` any run of characters, `?` one character.
// Everything else is literal (names contain dots, colons and slashes), matched case-sensitively.

const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let compiled = cache.get(pattern);
  if (!compiled) {
    const body = pattern.replace(/[.+^${}()|[\]\\/-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    compiled = new RegExp(`^${body}$`, 's');
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** True if `name` equals a pattern or matches one of the globs. */
export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => pattern === name || ((pattern.includes('*') || pattern.includes('?')) && globToRegExp(pattern).test(name)));
}
