// One Envoy ext_proc stream: messages are handled strictly in order (Envoy expects the responses
// in the order it sent the requests, and STREAMED bodies can arrive before the previous chunk was
// answered), and the handler learns when the stream ends or breaks, so it can settle accounting.
import type { ProcessingRequest, ProcessingResponse } from './messages.ts';

export interface StreamHandler {
  /** Answers one message; returning null sends nothing (observability mode). */
  handle(req: ProcessingRequest): ProcessingResponse | null | Promise<ProcessingResponse | null>;
  /** The stream closed; `broken` when Envoy cancelled it or it failed before the response ended. */
  close(broken: boolean): void;
}

export interface DuplexCall {
  on(event: 'data', cb: (msg: ProcessingRequest) => void): unknown;
  on(event: 'end' | 'cancelled' | 'close', cb: () => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  write(msg: ProcessingResponse): boolean;
  end(): void;
}

export function runProcessingStream(call: DuplexCall, handler: StreamHandler, onError: (err: unknown) => void): void {
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  const close = (broken: boolean) => {
    if (closed) return;
    closed = true;
    handler.close(broken);
  };
  call.on('data', (msg) => {
    chain = chain.then(async () => {
      if (closed) return;
      try {
        const res = await handler.handle(msg);
        if (res && !closed) call.write(res);
      } catch (err) {
        onError(err);
        close(true);
        call.end(); // Envoy fails the request (failure_mode_allow is false): fail closed.
      }
    });
  });
  call.on('end', () => {
    void chain.then(() => {
      close(false);
      call.end();
    });
  });
  call.on('cancelled', () => close(true));
  call.on('error', () => close(true));
}
