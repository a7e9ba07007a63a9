// Reads gateway.yaml, validates it, and reports problems as `path.to.field: what is wrong`.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { gatewayConfigSchema, type GatewayConfig } from './schema.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file}: invalid configuration\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

export function parseConfig(text: string, file = 'gateway.yaml'): GatewayConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(file, [`YAML syntax: ${(err as Error).message.split('\n')[0]}`]);
  }
  const result = gatewayConfigSchema.safeParse(doc);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}

export function loadConfigFile(file: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseConfig(text, file);
}

/** JSON Schema for editors (yaml-language-server: $schema=...). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(gatewayConfigSchema, { io: 'input', unrepresentable: 'any' });
}
