// stream(): a response whose head resolves the call and whose body is a Readable with
// real backpressure. Built on dispatch(): this handler pushes copies of the pieces into
// the body stream, pauses the request when the stream's buffer is full and resumes it
// when the consumer reads, so a slow consumer slows the socket (and the server) rather
// than filling memory.
import { Readable } from 'node:stream';
import { arm, disarm, type Timed } from '../conn/timers.js';
import { AbortError, BodyTimeoutError, type HttpClientPoolError } from '../errors.js';
import { toObject, type HeaderObject } from '../response.js';
import type { DispatchController, DispatchHandler, LibraryController } from './request.js';

/** What `stream()` resolves with, at the end of the response head. */
export class StreamResponse {
  private headerObject: HeaderObject | null = null;
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    /** `[name, value, name, value, ...]` exactly as received. */
    readonly rawHeaders: string[],
    /** The body as it arrives. Read it, or destroy it: a body nobody reads holds its socket (until `bodyTimeout`). */
    readonly body: BodyStream,
  ) {}

  /** Lower-case names; a name received more than once maps to an array of its values in order. */
  get headers(): HeaderObject {
    return (this.headerObject ??= toObject(this.rawHeaders));
  }
}

/** A response body: a Readable of Buffers, with helpers that read it whole. */
export class BodyStream extends Readable {
  /** Trailer fields of a chunked body, once the body has ended. */
  rawTrailers: readonly string[] = [];
  private used = false;

  /** The error the body ended with, if it did (also emitted as 'error'). */
  error: Error | null = null;

  constructor(private readonly source: StreamHandler) {
    super();
    // A body nobody listens to can still fail (the pool destroyed, the server gone): that
    // must not crash the process with an unhandled 'error'. Listeners and iterators of
    // the caller's still get it.
    this.on('error', (err: Error) => void (this.error = err));
  }

  override _read(): void {
    this.source.wanted();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.source.bodyDestroyed(err);
    callback(err);
  }

  /** The whole body, decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.whole()).toString('utf8');
  }

  /** The whole body, parsed as JSON. */
  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /** The whole body, in an ArrayBuffer of its own. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = await this.whole();
    const out = new ArrayBuffer(buf.length);
    new Uint8Array(out).set(buf);
    return out;
  }

  private async whole(): Promise<Buffer> {
    if (this.used) throw new TypeError('the body has already been read');
    this.used = true;
    const chunks: Buffer[] = [];
    for await (const chunk of this) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

/**
 * The dispatch handler behind one stream(): resolves at the head, then feeds the body.
 * While the body's buffer is full and nobody reads, the request is paused; if that lasts
 * `bodyTimeout`, the request fails with BodyTimeoutError and its socket is dropped.
 */
export class StreamHandler implements DispatchHandler, Timed {
  deadline = 0;
  clockIndex = -1;
  private body: BodyStream | null = null;
  private controller: DispatchController | null = null;
  private ended = false;

  constructor(
    private readonly resolve: (res: StreamResponse) => void,
    private readonly reject: (err: Error) => void,
    private readonly bodyTimeout: number,
  ) {}

  onResponseStart(controller: DispatchController, statusCode: number, rawHeaders: string[], statusMessage: string): void {
    this.controller = controller;
    this.body = new BodyStream(this);
    this.resolve(new StreamResponse(statusCode, statusMessage, rawHeaders, this.body));
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    // A copy: the chunk may be a view into the socket's read buffer, valid only now.
    if (this.body!.push(Buffer.from(chunk))) return;
    controller.pause();
    arm(this, this.bodyTimeout);
  }

  onResponseEnd(_controller: DispatchController, rawTrailers: readonly string[]): void {
    this.ended = true;
    disarm(this);
    const body = this.body!;
    body.rawTrailers = rawTrailers;
    body.push(null);
  }

  onResponseError(_controller: DispatchController, err: Error): void {
    this.ended = true;
    disarm(this);
    if (this.body === null) this.reject(err);
    else if (!this.body.destroyed) this.body.destroy(err);
  }

  /** The consumer wants more. */
  wanted(): void {
    disarm(this);
    this.controller?.resume();
  }

  /** The body was destroyed: a response not read to its end cannot leave its socket usable. */
  bodyDestroyed(err: Error | null): void {
    disarm(this);
    if (!this.ended) this.controller?.abort(err ?? new AbortError({}));
  }

  /** Nobody read the body for `bodyTimeout`. */
  expire(): void {
    (this.controller as LibraryController | null)?.giveUp(new BodyTimeoutError(this.bodyTimeout, {}));
  }
}
