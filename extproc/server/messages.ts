// The subset of envoy.service.ext_proc.v3 messages Switchboard reads and writes, as plain
// objects in protobufjs' keepCase shape (Envoy types snake_case, google.protobuf types camelCase).
// protobufjs encodes these objects directly, so building a response allocates nothing else.

export interface HeaderValue {
  key: string;
  value?: string;
  raw_value?: Uint8Array;
}

export interface HttpHeaders {
  headers?: { headers?: HeaderValue[] };
  end_of_stream?: boolean;
}

export interface HttpBody {
  body?: Uint8Array;
  end_of_stream?: boolean;
}

export interface ProtoValue {
  stringValue?: string;
  numberValue?: number;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

export interface ProcessingRequest {
  request_headers?: HttpHeaders;
  response_headers?: HttpHeaders;
  request_body?: HttpBody;
  response_body?: HttpBody;
  request_trailers?: unknown;
  response_trailers?: unknown;
  attributes?: Record<string, ProtoStruct>;
}

export const ResponseStatus = { CONTINUE: 0, CONTINUE_AND_REPLACE: 1 } as const;

/** ProcessingMode enums (envoy.extensions.filters.http.ext_proc.v3.ProcessingMode). */
export const HeaderSendMode = { DEFAULT: 0, SEND: 1, SKIP: 2 } as const;
export const BodySendMode = { NONE: 0, STREAMED: 1, BUFFERED: 2, BUFFERED_PARTIAL: 3 } as const;

export interface ProcessingMode {
  request_header_mode?: number;
  response_header_mode?: number;
  request_body_mode?: number;
  response_body_mode?: number;
  request_trailer_mode?: number;
  response_trailer_mode?: number;
}

export interface HeaderValueOption {
  header: { key: string; raw_value: Uint8Array };
  append_action?: number;
}

export interface HeaderMutation {
  set_headers?: HeaderValueOption[];
  remove_headers?: string[];
}

export interface CommonResponse {
  status?: number;
  header_mutation?: HeaderMutation;
  body_mutation?: { body?: Uint8Array; clear_body?: boolean };
  clear_route_cache?: boolean;
}

export interface ImmediateResponse {
  status: { code: number };
  headers?: HeaderMutation;
  body?: Uint8Array;
  details?: string;
}

export interface ProcessingResponse {
  request_headers?: { response?: CommonResponse };
  response_headers?: { response?: CommonResponse };
  request_body?: { response?: CommonResponse };
  response_body?: { response?: CommonResponse };
  request_trailers?: Record<string, never>;
  response_trailers?: Record<string, never>;
  immediate_response?: ImmediateResponse;
  dynamic_metadata?: ProtoStruct;
  mode_override?: ProcessingMode;
}

/** Headers as a lower-case name -> value map; Envoy sends each value in raw_value (bytes). */
export function headerMap(h: HttpHeaders | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const hv of h?.headers?.headers ?? []) {
    const v = hv.raw_value && hv.raw_value.length > 0 ? Buffer.from(hv.raw_value).toString('latin1') : (hv.value ?? '');
    out.set(hv.key.toLowerCase(), v);
  }
  return out;
}

export function setHeaders(values: Record<string, string>): HeaderValueOption[] {
  return Object.entries(values).map(([key, value]) => ({ header: { key, raw_value: Buffer.from(value, 'latin1') } }));
}

export function immediate(status: number, headers: Record<string, string>, body: Uint8Array, details: string): ProcessingResponse {
  return { immediate_response: { status: { code: status }, headers: { set_headers: setHeaders(headers) }, body, details } };
}

/** Reads a string attribute (e.g. xds.upstream_host_metadata is a Struct; others are strings). */
export function attribute(req: ProcessingRequest, name: string): ProtoValue | undefined {
  for (const s of Object.values(req.attributes ?? {})) {
    const v = s.fields?.[name];
    if (v) return v;
  }
  return undefined;
}

const EMPTY = new Uint8Array(0);

/** A body chunk as bytes: protobufjs hands an absent or empty `bytes` field over as a plain []. */
export function bodyBytes(body: HttpBody | undefined): Uint8Array {
  const b = body?.body;
  return b instanceof Uint8Array ? b : EMPTY;
}

/** A plain JSON-like value as google.protobuf.Value (protobufjs object shape). */
export function protoValue(v: unknown): ProtoValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(protoValue) } };
  if (v && typeof v === 'object') return { structValue: protoStruct(v as Record<string, unknown>) };
  return { stringValue: '' };
}

export function protoStruct(o: Record<string, unknown>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [k, v] of Object.entries(o)) fields[k] = protoValue(v);
  return { fields };
}
