// Runs the Portkey gateway's own Node entry point (build/start-server.js, what its `start:node`
// script runs) bound to 127.0.0.1: the entry point calls @hono/node-server's serve({ port })
// without a hostname, which would listen on every interface. Nothing else is changed.
//
// Forked by bench/peers/portkey.ts with PORTKEY_ENTRY in the environment and Portkey's own
// arguments (--port=N --headless); exits when the bench's IPC channel closes, so a killed
// orchestrator leaves no gateway behind.
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const entry = process.env.PORTKEY_ENTRY;
if (!entry) throw new Error('PORTKEY_ENTRY is not set');

type Listen = (...args: unknown[]) => http.Server;
const listen = http.Server.prototype.listen as unknown as Listen;
(http.Server.prototype as unknown as { listen: Listen }).listen = function (this: http.Server, ...args: unknown[]) {
  // listen(port, undefined | '0.0.0.0' | '::', ...) -> listen(port, '127.0.0.1', ...)
  if (typeof args[0] === 'number' && (args[1] === undefined || args[1] === '0.0.0.0' || args[1] === '::')) args[1] = '127.0.0.1';
  return listen.apply(this, args);
};

process.on('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));
await import(pathToFileURL(entry).href);
