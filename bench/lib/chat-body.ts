// The benchmarks' chat-completion request body: a system prompt and a user prompt padded so the
// JSON is about `targetBytes` long.

export function chatBody(opts: { model: string; targetBytes: number; stream?: boolean }): string {
  const para = 'Summarise the following incident report for the on-call channel, keeping the timeline and the customer impact. ';
  let user = '';
  while (user.length < opts.targetBytes - 300) user += para;
  return JSON.stringify({
    model: opts.model,
    messages: [
      { role: 'system', content: 'You are a concise assistant for an SRE team. Answer in plain English.' },
      { role: 'user', content: user.slice(0, Math.max(10, opts.targetBytes - 300)) },
    ],
    temperature: 0.2,
    max_tokens: 256,
    ...(opts.stream ? { stream: true } : {}),
  });
}
