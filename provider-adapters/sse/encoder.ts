// SSE framing for what we send to clients.
export function sseEvent(data: string, event?: string): string {
  const lines = data.split('\n').map((l) => `data: ${l}`).join('\n');
  return event === undefined ? `${lines}\n\n` : `event: ${event}\n${lines}\n\n`;
}

export function sseJson(value: unknown, event?: string): string {
  return sseEvent(JSON.stringify(value), event);
}
