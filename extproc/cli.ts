#!/usr/bin/env node
// switchboard <command>: start | validate | envoy-config | schema | keys create | demo | audit verify
import { parseArgs } from 'node:util';
import path from 'node:path';
import { ConfigError, configJsonSchema, loadConfigFile } from './config/load.ts';
import { runGateway } from './runtime/supervisor.ts';
import { ensureKeyHashSecret } from './runtime/secrets.ts';
import { generateVirtualKey, hashVirtualKey } from './auth/virtual-key.ts';

const USAGE = `usage: switchboard <command> [options]
  start [-c gateway.yaml]            run Envoy and the ext_proc service (default config: ./gateway.yaml)
  validate <file>                    check a gateway.yaml; problems are listed as path: message
  envoy-config [-c gateway.yaml] [--format bootstrap|snippet|istio|envoy-gateway]
                                     print the Envoy bootstrap, or the pieces for an existing Envoy / Istio / Envoy Gateway (YAML)
  schema                             print the JSON Schema of gateway.yaml (for editors)
  keys create [-c gateway.yaml]      generate a virtual key; prints the key once and its hash for gateway.yaml
  admin-key [-c gateway.yaml]        generate an admin credential (global scope) for gateway.yaml admins:
  demo                               gateway + simulated providers, no keys or network needed
  audit verify <file...>             check the audit log's hash chains`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // envoy-config has options of its own (--format, --extproc, ...): envoy/mesh/cli.ts parses them.
  if (command === 'envoy-config') return (await import('../envoy/mesh/cli.ts')).envoyConfigCommand(rest);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { config: { type: 'string', short: 'c', default: 'gateway.yaml' } } });
  const configFile = path.resolve(values.config);
  switch (command) {
    case 'start':
      return runGateway({ configFile });
    case 'validate': {
      const file = positionals[0] ?? configFile;
      try {
        loadConfigFile(file);
        console.log(`${file}: valid`);
        return 0;
      } catch (err) {
        console.error(err instanceof ConfigError ? err.message : (err as Error).message);
        return 1;
      }
    }
    case 'schema':
      process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
      return 0;
    case 'keys': {
      if (positionals[0] !== 'create') break;
      const config = loadConfigFile(configFile);
      const { secret } = ensureKeyHashSecret(path.resolve(config.server.stateDir));
      const key = generateVirtualKey();
      console.log(`virtual key (shown once): ${key}`);
      console.log(`add to gateway.yaml under virtualKeys:\n  - id: my-key\n    name: My key\n    hash: ${hashVirtualKey(key, Buffer.from(secret, 'utf8'))}`);
      return 0;
    }
    case 'admin-key': {
      const config = loadConfigFile(configFile);
      const { secret } = ensureKeyHashSecret(path.resolve(config.server.stateDir));
      const key = generateVirtualKey();
      console.log(`admin key (shown once; send it as Authorization: Bearer to ${config.server.admin.host}:${config.server.admin.port}/admin/...): ${key}`);
      console.log(`add to gateway.yaml under admins (scopes: global, customer:<id> or team:<id>):\n  - id: my-admin\n    hash: ${hashVirtualKey(key, Buffer.from(secret, 'utf8'))}\n    scopes: [global]`);
      return 0;
    }
    case 'demo': {
      const { runDemo } = await import('./runtime/demo.ts');
      return runDemo();
    }
    case 'audit': {
      if (positionals[0] !== 'verify' || positionals.length < 2) break;
      const { runAuditVerify } = await import('./audit/index.ts');
      const result = await runAuditVerify(positionals.slice(1));
      for (const p of result.problems) console.error(p);
      console.log(result.ok ? 'audit log verified: intact' : 'audit log verification FAILED');
      return result.ok ? 0 : 1;
    }
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : `switchboard: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
