// Pumping a streamed request body into a socket (Pool) or a ClientRequest (NodePool),
// the same for both backends: one piece at a time, waiting for the sink to drain when
// it says so (memory stays bounded whatever the body's size), counting bytes against
// the declared length. The framing (chunked or not) is the sink's. An upload costs a
// few objects and closures of its own; it is never on the path of a body in bytes.
import { RequestBodyError } from '../errors.js';

/** Where an upload goes. */
export interface UploadSink {
  /** Writes a piece of the body; false: wait for `drained()` before the next. */
  uploadWrite(chunk: Buffer): boolean;
  /** The whole body was handed over, as declared. */
  uploadEnd(): void;
  /** The body cannot be sent as declared (length, a failed source): nothing more is written. */
  uploadFailed(err: RequestBodyError): void;
}

export class Upload {
  /** Bytes handed to the sink so far. */
  sent = 0;
  private started = false;
  private stopped = false;
  private iterator: AsyncIterator<unknown> | null = null;
  private resume: (() => void) | null = null;

  constructor(
    private readonly source: AsyncIterable<unknown>,
    /** The declared length; -1: none (chunked). */
    private readonly length: number,
    private readonly sink: UploadSink,
  ) {}

  /** Starts reading the source (once). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.run();
  }

  /** The sink drained: the next piece may go. */
  drained(): void {
    const r = this.resume;
    this.resume = null;
    r?.();
  }

  /** Stops early (the socket is gone, or the response came first): the source is destroyed, nothing more is reported. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.drained();
    const src = this.source as { destroy?: (err?: Error) => void; cancel?: () => Promise<void> };
    if (typeof src.destroy === 'function') {
      src.destroy();
      return;
    }
    if (!this.started && typeof src.cancel === 'function') {
      // A web stream never read.
      void src.cancel().catch(ignore);
      return;
    }
    // Ends a generator, cancels a web stream.
    const it = this.iterator;
    if (it !== null && typeof it.return === 'function') {
      try {
        void Promise.resolve(it.return()).catch(ignore);
      } catch {
        // A source whose return() throws has nothing left to stop.
      }
    }
  }

  private async run(): Promise<void> {
    const length = this.length;
    try {
      const it = this.source[Symbol.asyncIterator]();
      this.iterator = it;
      for (;;) {
        const r = await it.next();
        if (this.stopped) return;
        if (r.done === true) break;
        const chunk = toBuffer(r.value);
        if (chunk === null) return this.fail(new RequestBodyError('a streamed request body yielded something other than bytes or a string', {}));
        if (chunk.length === 0) continue;
        if (length >= 0 && this.sent + chunk.length > length) {
          return this.fail(new RequestBodyError(`the request body is longer than its content-length (${length} bytes)`, {}));
        }
        this.sent += chunk.length;
        if (!this.sink.uploadWrite(chunk)) await new Promise<void>((resolve) => (this.resume = resolve));
        if (this.stopped) return;
      }
    } catch (cause) {
      if (this.stopped) return;
      const detail = cause instanceof Error ? cause.message : String(cause);
      return this.fail(new RequestBodyError(`the request body's source failed: ${detail}`, { cause }));
    }
    if (length >= 0 && this.sent !== length) {
      return this.fail(new RequestBodyError(`the request body is shorter (${this.sent} bytes) than its content-length (${length} bytes)`, {}));
    }
    this.stopped = true;
    this.sink.uploadEnd();
  }

  private fail(err: RequestBodyError): void {
    this.stop();
    this.sink.uploadFailed(err);
  }
}

function toBuffer(v: unknown): Buffer | null {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

function ignore(): void {}
