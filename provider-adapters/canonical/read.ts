// Typed field readers for ingress bodies: a wrong type becomes a 400 that names the parameter.
import { fail, invalidBody } from './errors.ts';
import { isObject, type JsonObject } from './json.ts';

export function optNumber(o: JsonObject, key: string, param = key, range?: { min?: number; max?: number }): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(invalidBody(`'${param}' must be a number`, param));
  if (range?.min !== undefined && v < range.min) fail(invalidBody(`'${param}' must be >= ${range.min}`, param));
  if (range?.max !== undefined && v > range.max) fail(invalidBody(`'${param}' must be <= ${range.max}`, param));
  return v;
}

export function optInt(o: JsonObject, key: string, param = key, min = 0): number | undefined {
  const v = optNumber(o, key, param, { min });
  if (v !== undefined && !Number.isInteger(v)) fail(invalidBody(`'${param}' must be an integer`, param));
  return v;
}

export function optString(o: JsonObject, key: string, param = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(invalidBody(`'${param}' must be a string`, param));
  return v;
}

export function reqString(o: JsonObject, key: string, param = key): string {
  const v = optString(o, key, param);
  if (v === undefined) fail(invalidBody(`'${param}' is required`, param));
  return v;
}

export function optBool(o: JsonObject, key: string, param = key): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(invalidBody(`'${param}' must be a boolean`, param));
  return v;
}

export function optObject(o: JsonObject, key: string, param = key): JsonObject | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(invalidBody(`'${param}' must be an object`, param));
  return v;
}

export function optArray(o: JsonObject, key: string, param = key): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(invalidBody(`'${param}' must be an array`, param));
  return v;
}

export function reqArray(o: JsonObject, key: string, param = key): unknown[] {
  const v = optArray(o, key, param);
  if (v === undefined) fail(invalidBody(`'${param}' is required`, param));
  return v;
}

export function asObject(v: unknown, param: string): JsonObject {
  if (!isObject(v)) fail(invalidBody(`'${param}' must be an object`, param));
  return v;
}

/** A string or array of strings (OpenAI `stop`). */
export function optStringList(o: JsonObject, key: string, param = key): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  fail(invalidBody(`'${param}' must be a string or an array of strings`, param));
}

/** Only string values survive into canonical metadata; anything else is a 400. */
export function optStringMap(o: JsonObject, key: string, param = key): Record<string, string> | undefined {
  const v = optObject(o, key, param);
  if (!v) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') fail(invalidBody(`'${param}.${k}' must be a string`, `${param}.${k}`));
    out[k] = val;
  }
  return out;
}
