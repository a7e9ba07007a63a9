// Work that follows an answer (settling cost, the audit record) must not delay the answer: Node
// flushes HTTP/2 writes from a setImmediate, so anything done synchronously after a reply, or
// awaited before returning it (the audit fsync), holds the bytes back. This runs such work on a
// later turn of the event loop and lets shutdown wait until all of it is done.
export class AfterResponse {
  private readonly pending = new Set<Promise<void>>();
  private readonly onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void) {
    this.onError = onError;
  }

  /** Runs `work` after the current answer has been handed to the socket. */
  run(work: () => Promise<void>): void {
    const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch(this.onError)
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once every scheduled piece of work (including work scheduled meanwhile) is done. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
