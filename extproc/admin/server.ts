// The admin API over HTTP: keys, teams, customers, profiles and spend (AdminService), plus
// /metrics and /healthz. It listens on `server.admin` (default 127.0.0.1:8081), a socket of its
// own that the public Envoy listener never routes to. Every /admin route needs an admin credential
// from gateway.yaml `admins:` (Authorization: Bearer <admin key>); /metrics and /healthz do not.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { authenticateAdmin } from '../auth/admin-credentials.ts';
import { AdminError } from '../governance/admin.ts';
import type { AdminCaller, AdminService } from '../governance/admin.ts';
import type { Level } from '../governance/policy.ts';
import type { AdminCredentialConfig } from '../governance/schema.ts';
import { StateStoreUnavailableError } from '../governance/store.ts';

export interface AdminServerOptions {
  host: string;
  port: number;
  service: AdminService;
  /** Read per request, so an edit of `admins:` applies on reload. */
  admins: () => readonly AdminCredentialConfig[];
  secret: Uint8Array;
  /** Prometheus exposition text. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  log: Logger;
  /** Largest accepted request body. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface AdminServer {
  /** host:port actually bound (port 0 picks a free one). */
  address: string;
  close(): Promise<void>;
}

type ErrorCode = 'invalid_admin_key' | 'forbidden' | 'invalid_body' | 'not_found' | 'conflict' | 'method_not_allowed' | 'request_too_large' | 'store_unavailable' | 'internal_error';

class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  constructor(status: number, code: ErrorCode, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  503: 'api_error',
  500: 'api_error',
};

const ADMIN_CODES: Record<AdminError['status'], ErrorCode> = { 400: 'invalid_body', 403: 'forbidden', 404: 'not_found', 409: 'conflict' };

interface Reply {
  status: number;
  body?: unknown;
}

type Handler = (caller: AdminCaller, params: string[], body: () => Promise<unknown>) => Promise<Reply>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const SEGMENT = '([^/]+)';
const LEVELS: readonly Level[] = ['key', 'team', 'customer'];

function routes(service: AdminService): Route[] {
  const route = (method: string, path: string, handler: Handler): Route => ({ method, pattern: new RegExp(`^${path.replaceAll(':id', SEGMENT)}$`), handler });
  const ok = (body: unknown): Reply => ({ status: 200, body });
  const entity = (kind: 'team' | 'customer' | 'profile', idField: 'id' | 'name') => async (caller: AdminCaller, [id]: string[], body: () => Promise<unknown>) => {
    const input = await body();
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new HttpError(400, 'invalid_body', 'the body must be a JSON object');
    const given = (input as Record<string, unknown>)[idField];
    if (given !== undefined && given !== id) throw new HttpError(400, 'invalid_body', `${idField} "${String(given)}" in the body differs from "${id}" in the path`);
    const doc = { ...input, [idField]: id };
    if (kind === 'team') return ok(await service.putTeam(caller, doc));
    if (kind === 'customer') return ok(await service.putCustomer(caller, doc));
    return ok(await service.putProfile(caller, doc));
  };
  const remove = (kind: 'team' | 'customer' | 'profile') => async (caller: AdminCaller, [id]: string[]): Promise<Reply> => {
    await service.deleteEntity(caller, kind, id!);
    return { status: 204 };
  };
  return [
    route('GET', '/admin/whoami', async (caller) => ok(caller)),
    route('GET', '/admin/keys', async (caller) => ok({ data: await service.listKeys(caller) })),
    route('POST', '/admin/keys', async (caller, _params, body) => ({ status: 201, body: await service.createKey(caller, (await body()) as never) })),
    route('PATCH', '/admin/keys/:id', async (caller, [id], body) => ok(await service.updateKey(caller, id!, (await body()) as never))),
    route('POST', '/admin/keys/:id/rotate', async (caller, [id]) => ok(await service.rotateKey(caller, id!))),
    route('POST', '/admin/keys/:id/revoke', async (caller, [id]) => ok(await service.revokeKey(caller, id!))),
    route('DELETE', '/admin/keys/:id', async (caller, [id]) => ok(await service.revokeKey(caller, id!))),
    route('PUT', '/admin/teams/:id', entity('team', 'id')),
    route('DELETE', '/admin/teams/:id', remove('team')),
    route('PUT', '/admin/customers/:id', entity('customer', 'id')),
    route('DELETE', '/admin/customers/:id', remove('customer')),
    route('PUT', '/admin/profiles/:id', entity('profile', 'name')),
    route('DELETE', '/admin/profiles/:id', remove('profile')),
    route('GET', '/admin/spend/:id/:id', async (caller, [level, id]) => {
      if (!LEVELS.includes(level as Level)) throw new HttpError(404, 'not_found', `unknown level "${level}": use key, team or customer`);
      return ok(await service.readSpend(caller, level as Level, id!));
    }),
  ];
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, { 'cache-control': 'no-store', ...headers });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, err: HttpError): void {
  const headers: Record<string, string> = err.status === 401 ? { 'www-authenticate': 'Bearer realm="switchboard-admin"' } : err.status === 503 ? { 'retry-after': '1' } : {};
  send(res, err.status, { error: { message: err.message, type: ERROR_TYPES[err.status] ?? 'api_error', code: err.code } }, headers);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, 'request_too_large', `the body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'invalid_body', 'the body is not valid JSON'));
      }
    });
  });
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const table = routes(options.service);
  const limit = options.maxBodyBytes ?? 1024 * 1024;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', 'use GET');
      return send(res, 200, { status: 'ok' });
    }
    if (path === '/metrics') {
      if (method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'use GET');
      const metrics = await options.metrics();
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.end(metrics.body);
      return;
    }
    if (!path.startsWith('/admin/')) throw new HttpError(404, 'not_found', `no route ${method} ${path}`);
    // Authenticate before routing, so an anonymous caller learns nothing about the routes.
    const raw = bearer(req.headers.authorization);
    const caller = authenticateAdmin(raw, options.admins(), options.secret);
    if (!caller) throw new HttpError(401, 'invalid_admin_key', raw ? 'Invalid admin credential.' : 'Missing admin credential: send Authorization: Bearer <admin key> (gateway.yaml admins:).');
    const matching = table.filter((r) => r.pattern.test(path));
    if (matching.length === 0) throw new HttpError(404, 'not_found', `no route ${method} ${path}`);
    const route = matching.find((r) => r.method === method);
    if (!route) throw new HttpError(405, 'method_not_allowed', `${path} accepts ${matching.map((r) => r.method).join(', ')}`);
    const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
    const reply = await route.handler(caller, params, () => readBody(req, limit));
    // The caller's id (never its key) is worth a line: these calls change who may spend what.
    if (method !== 'GET') options.log.info({ admin: caller.id, method, path, status: reply.status }, 'admin call');
    send(res, reply.status, reply.body);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) return sendError(res, err);
      if (err instanceof AdminError) return sendError(res, new HttpError(err.status, ADMIN_CODES[err.status], err.message));
      if (err instanceof StateStoreUnavailableError) return sendError(res, new HttpError(503, 'store_unavailable', 'The state store is unavailable; please retry.'));
      options.log.error({ err, method: req.method }, 'admin API call failed');
      sendError(res, new HttpError(500, 'internal_error', 'Internal error.'));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
