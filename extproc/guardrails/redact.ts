// Writes placeholders over sensitive spans. Overlapping spans merge into one placeholder.

export interface RedactionSpan {
  start: number;
  end: number;
  entity: string;
}

export function placeholder(entity: string): string {
  return `[REDACTED:${entity}]`;
}

export function redactSpans(text: string, spans: readonly RedactionSpan[]): string {
  if (spans.length === 0) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let cursor = 0;
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    let end = first.end;
    i++;
    while (i < sorted.length && sorted[i]!.start < end) end = Math.max(end, sorted[i++]!.end);
    if (first.start < cursor) continue;
    out += text.slice(cursor, first.start) + placeholder(first.entity);
    cursor = end;
  }
  return out + text.slice(cursor);
}
