// Loads the Envoy protos in proto/ once, with protobufjs reflection. protobufjs compiles a
// specialised encoder/decoder per message type on first use, so this is as fast as its static
// codegen (bench/codec.ts compares it with @grpc/proto-loader's object conversion).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
// Well-known types: protobufjs ships descriptor.proto beside its bundled common types.
const wellKnownDir = path.dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));

export const EXT_PROC_PROTO = 'envoy/service/ext_proc/v3/external_processor.proto';
export const ALS_PROTO = 'envoy/service/accesslog/v3/als.proto';

let cached: protobuf.Root | undefined;

export function loadEnvoyProtos(): protobuf.Root {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target.startsWith('google/protobuf/')) return path.join(wellKnownDir, target);
    return path.join(protoDir, target);
  };
  root.loadSync([EXT_PROC_PROTO, ALS_PROTO], { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

export function protoPath(): string {
  return protoDir;
}
