// Splits a provider base URL into host and path prefix for the wire request.
export function baseParts(baseUrl: string, defaultPrefix: string): { host: string; prefix: string } {
  const u = new URL(baseUrl);
  const path = u.pathname.replace(/\/+$/, '');
  return { host: u.host, prefix: path === '' ? defaultPrefix : path };
}
