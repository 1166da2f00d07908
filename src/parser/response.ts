// Bytes in, HTTP/1.1 responses out, in order. Wraps one llhttp instance for the life
// of a connection and knows nothing of sockets: `reset()` starts a stream, `expect()`
// announces each request written (so HEAD responses are read as bodiless), `feed()`
// takes chunks as they arrive, `eof()` reports the end of the stream. After each call
// the results are read from `done` (completed responses, oldest first) / `error` /
// `trailing`. Nothing is settled from inside llhttp callbacks, so the caller may
// re-initialise or close the parser as soon as a call returns.
import { HTTPParser, type NativeParser, type NativeParseError } from './binding.js';
import { ParseError, ResponseTooLargeError, UpgradeError, type HttpClientPoolError } from '../errors.js';
import { Response } from '../response.js';

const EMPTY_BODY = Buffer.alloc(0);

/** A declared Content-Length up to this size is read into one buffer allocated up front. */
const PREALLOCATE_LIMIT = 64 * 1024 * 1024;

/** Return values of llhttp's on-headers-complete: parse a body, or treat the message as bodiless. */
const WITH_BODY = 0;
const NO_BODY = 1;

export class ResponseParser {
  /** Completed responses not yet taken by the caller, oldest first. */
  readonly done: Response[] = [];
  /** Why the oldest unanswered exchange failed, once it has. */
  error: HttpClientPoolError | null = null;
  /** Bytes came that no expected response accounts for: the stream can no longer be trusted. */
  trailing = false;
  /** The server allows the socket to be reused after the last completed response. */
  keepAlive = false;
  /** The server's `Keep-Alive: timeout=N` hint in ms, or -1. */
  keepAliveHint = -1;
  /** Any byte of the oldest unanswered response was seen. */
  started = false;
  /** Called once when the final (non-1xx) response head is complete. */
  onHead: (statusCode: number, rawHeaders: string[]) => void = noop;

  private readonly native: NativeParser;
  private readonly resource = {};
  private readonly maxHeaderSize: number;
  private readonly maxResponseSize: number;
  /** One entry per expected response, oldest first: true when it has no body (HEAD). */
  private readonly expected: boolean[] = [];

  // State of the message being parsed.
  private fields: string[] = [];
  private statusCode = 0;
  private statusMessage = '';
  private httpVersion = '1.1';
  private rawHeaders: string[] | null = null;
  private interim = false;
  private messageKeepAlive = false;
  private messageHint = -1;
  private contentLength = -1;
  private received = 0;
  private body: Buffer | null = null;
  private chunks: Buffer[] | null = null;

  constructor(maxHeaderSize: number, maxResponseSize: number) {
    this.maxHeaderSize = maxHeaderSize;
    this.maxResponseSize = maxResponseSize;
    const p = new HTTPParser();
    p[HTTPParser.kOnMessageBegin] = this.messageBegin.bind(this);
    p[HTTPParser.kOnHeaders] = this.headerBatch.bind(this);
    p[HTTPParser.kOnHeadersComplete] = this.headersComplete.bind(this);
    p[HTTPParser.kOnBody] = this.bodyChunk.bind(this);
    p[HTTPParser.kOnMessageComplete] = this.messageComplete.bind(this);
    this.native = p;
  }

  /** The final response head of the current exchange has been parsed. */
  get headComplete(): boolean {
    return this.rawHeaders !== null;
  }

  /** Starts a new stream (a new socket). */
  reset(): void {
    this.native.initialize(HTTPParser.RESPONSE, this.resource, this.maxHeaderSize, HTTPParser.kLenientNone);
    this.done.length = 0;
    this.expected.length = 0;
    this.error = null;
    this.trailing = false;
    this.keepAlive = false;
    this.keepAliveHint = -1;
    this.started = false;
    this.resetMessage();
  }

  /** One more response is expected on this stream. `bodiless`: the request was HEAD. */
  expect(bodiless: boolean): void {
    this.expected.push(bodiless);
  }

  /** A stream carrying exactly one exchange: `reset()` then `expect()`. */
  start(bodiless: boolean): void {
    this.reset();
    this.expect(bodiless);
  }

  /** The oldest completed response not yet taken, or null. */
  get response(): Response | null {
    return this.done.length === 0 ? null : this.done[0]!;
  }

  feed(chunk: Buffer): void {
    const r = this.native.execute(chunk);
    if (typeof r === 'number') return;
    // An error after the last expected response completed is about bytes nobody asked for.
    // So is anything after a response that closed the connection (HPE_CLOSED_CONNECTION):
    // the requests behind it were never answered.
    if ((this.expected.length === 0 && this.done.length !== 0) || ((r as NativeParseError).code === 'HPE_CLOSED_CONNECTION' && !this.keepAlive)) this.trailing = true;
    else if (this.error === null) this.error = parseError(r);
  }

  /**
   * The stream ended. Completes a close-delimited body; returns true when the oldest
   * expected response is now complete. Otherwise it was cut short (or never began).
   */
  eof(): boolean {
    if (this.expected.length !== 0 && this.error === null) {
      const before = this.done.length;
      const r = this.native.finish();
      if (r !== undefined && this.started && this.done.length === before) this.error = parseError(r);
    }
    return this.done.length !== 0;
  }

  /** Frees the native parser. Never call from inside `feed()`. */
  close(): void {
    this.native.close();
  }

  private resetMessage(): void {
    if (this.fields.length !== 0) this.fields = [];
    this.messageHint = -1;
    this.rawHeaders = null;
    this.interim = false;
    this.contentLength = -1;
    this.received = 0;
    this.body = null;
    this.chunks = null;
  }

  private messageBegin(): void {
    // A message nobody asked for (or after an error): not ours to read.
    if (this.expected.length === 0 || this.error !== null) this.trailing = true;
    else this.started = true;
  }

  private headerBatch(fields: string[]): void {
    // llhttp flushes fields in batches past 32 of them; after the head, batches are trailers.
    for (let i = 0; i < fields.length; i++) this.fields.push(fields[i]!);
  }

  private headersComplete(
    versionMajor: number,
    versionMinor: number,
    headers: string[] | undefined,
    _method: unknown,
    _url: unknown,
    statusCode: number,
    statusMessage: string,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number {
    if (this.trailing || this.error !== null) return NO_BODY;
    const raw = headers ?? this.fields;
    if (headers === undefined) this.fields = [];
    if (upgrade || statusCode === 101) {
      this.error = new UpgradeError({ phase: 'headers' });
      return NO_BODY;
    }
    if (statusCode < 100) {
      // llhttp accepts any three digits; below 100 there is no HTTP status to act on.
      this.error = new ParseError('HPE_INVALID_STATUS', `invalid status code ${statusCode}`, { phase: 'headers' });
      return NO_BODY;
    }
    if (statusCode < 200) {
      // 100 Continue, 103 Early Hints, ...: skip; the final response follows.
      this.interim = true;
      return NO_BODY;
    }
    this.statusCode = statusCode;
    this.statusMessage = statusMessage;
    this.httpVersion = versionMajor === 1 && versionMinor === 1 ? '1.1' : `${versionMajor}.${versionMinor}`;
    this.rawHeaders = raw;
    this.scanHeaders(raw);
    const bodiless = this.expected[0]!;
    // llhttp decides keep-alive before it learns a HEAD response has no body, so a HEAD
    // answered without a length looks close-delimited to it; it ends at its blank line.
    this.messageKeepAlive = shouldKeepAlive || (bodiless && headerAllowsReuse(versionMajor, versionMinor, raw));
    this.onHead(statusCode, raw);
    const hasBody = !bodiless && statusCode !== 204 && statusCode !== 304;
    if (hasBody && this.contentLength > this.maxResponseSize) {
      this.error = new ResponseTooLargeError(this.maxResponseSize, {});
      return NO_BODY;
    }
    return bodiless ? NO_BODY : WITH_BODY;
  }

  /** Picks out the two fields the client itself acts on. llhttp has already validated them. */
  private scanHeaders(raw: string[]): void {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') {
        this.contentLength = Number(raw[i + 1]);
      } else if (name.length === 10 && name.toLowerCase() === 'keep-alive') {
        this.messageHint = keepAliveTimeout(raw[i + 1]!);
      }
    }
  }

  private bodyChunk(chunk: Buffer): void {
    if (this.error !== null || this.trailing) return;
    const offset = this.received;
    this.received += chunk.length;
    if (this.received > this.maxResponseSize) {
      this.error = new ResponseTooLargeError(this.maxResponseSize, {});
      this.body = null;
      this.chunks = null;
      return;
    }
    if (this.body !== null) {
      chunk.copy(this.body, offset);
    } else if (this.chunks !== null) {
      this.chunks.push(chunk);
    } else if (chunk.length === this.contentLength) {
      this.body = chunk; // the whole body in one chunk: no copy
    } else if (this.contentLength > 0 && this.contentLength <= PREALLOCATE_LIMIT) {
      this.body = Buffer.allocUnsafe(this.contentLength);
      chunk.copy(this.body, 0);
    } else {
      this.chunks = [chunk];
    }
  }

  private messageComplete(): void {
    if (this.trailing || this.error !== null) return;
    if (this.interim) {
      this.resetMessage();
      return;
    }
    if (this.rawHeaders === null) return;
    let body: Buffer;
    if (this.body !== null) body = this.body;
    else if (this.chunks === null) body = EMPTY_BODY;
    else if (this.chunks.length === 1) body = this.chunks[0]!;
    else body = Buffer.concat(this.chunks, this.received);
    const trailers = this.fields.length !== 0 ? this.fields : null;
    this.done.push(new Response(this.statusCode, this.statusMessage, this.httpVersion, this.rawHeaders, trailers, body));
    this.expected.shift();
    this.keepAlive = this.messageKeepAlive;
    this.keepAliveHint = this.messageHint;
    this.started = false;
    this.fields = [];
    this.resetMessage();
  }
}

/** Connection reuse by the `Connection` header alone: HTTP/1.1 unless `close`, HTTP/1.0 only with `keep-alive`. */
function headerAllowsReuse(major: number, minor: number, raw: string[]): boolean {
  let tokens = '';
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'connection') tokens += ',' + raw[i + 1]!.toLowerCase();
  const has = (t: string): boolean => tokens.split(',').some((x) => x.trim() === t);
  if (major === 1 && minor === 1) return !has('close');
  return major === 1 && minor === 0 && has('keep-alive');
}

/** The `timeout=N` of a `Keep-Alive` header value, in ms; -1 when absent. */
export function keepAliveTimeout(value: string): number {
  const m = /(?:^|[\s,;])timeout\s*=\s*(\d+)/i.exec(value);
  return m === null ? -1 : Number(m[1]) * 1000;
}

function parseError(err: NativeParseError): ParseError {
  return new ParseError(err.code ?? 'HPE_UNKNOWN', err.reason ?? err.message, {});
}

function noop(): void {}
