// Bytes in, HTTP/1.1 responses out, in order. Wraps one llhttp instance for the life
// of a connection and knows nothing of sockets: `reset()` starts a stream, `expect()`
// announces each request written (so HEAD responses are read as bodiless), `feed()`
// takes bytes as they arrive, `eof()` reports the end of the stream. After each call
// the results are read from `done` (completed responses, oldest first) / `error` /
// `unasked`. Nothing is settled from inside llhttp callbacks, so the caller may
// re-initialise or close the parser as soon as a call returns. No reference to a fed
// chunk is kept past the call: the caller may reuse its read buffer.
//
// llhttp parses every head. A Content-Length body is framed here, beside it: llhttp is
// fed a head only up to its blank line and told that the message has no body, and the
// body's bytes are copied into one buffer of the declared size, or read into it by the
// socket itself (`bodyTarget()`). That skips llhttp's body callback, which hands each
// piece over as a fresh copy. Chunked and close-delimited bodies stay with llhttp.
import { httpParser, type NativeParser, type NativeParseError, type NativeParserClass } from './binding.js';
import { ParseError, ResponseTooLargeError, UpgradeError, type HttpClientPoolError } from '../errors.js';
import { completeResponse, Response } from '../response.js';
import { Fifo } from '../fifo.js';
import { connectionAllowsReuse, keepAliveTimeout } from '../keep-alive.js';

const EMPTY_BODY = Buffer.alloc(0);
const NO_TRAILERS: readonly string[] = Object.freeze([]);

/** Body pieces up to this size are copied byte by byte. */
const SMALL_COPY = 128;

/** A declared Content-Length up to this size is read into one buffer allocated up front. */
const PREALLOCATE_LIMIT = 64 * 1024 * 1024;

/** Return values of llhttp's on-headers-complete: parse a body, or treat the message as bodiless. */
const WITH_BODY = 0;
const NO_BODY = 1;

/**
 * Framing bodies here relies on a head ending at its first CR LF CR LF, which holds
 * where llhttp rejects bare LF line ends: llhttp 9 (Node >= 20.19.2), told apart by a
 * lenient flag it added. Older ones leave every body to llhttp.
 */
function framesOwnBodies(P: NativeParserClass): boolean {
  return typeof P.kLenientOptionalCRBeforeLF === 'number';
}

const enum Mode {
  /** Between messages or inside a head: llhttp is fed up to the next blank line. */
  Head,
  /** llhttp reads the body (chunked, close-delimited, or a head that ended where we did not look); `gathered` keeps it. */
  LlhttpBody,
  /** The Content-Length body is copied here (`framed`); llhttp waits for the next head. */
  OwnBody,
}

/** A Content-Length body framed beside llhttp: one buffer of the declared size, filled in place. */
class FramedBody {
  length = 0;
  received = 0;
  private buffer: Buffer | null = null;

  begin(length: number): void {
    this.length = length;
    this.received = 0;
    this.buffer = null;
  }

  /** How much is still missing. */
  get missing(): number {
    return this.length - this.received;
  }

  /** The body's buffer, allocated at its first byte rather than on the server's word alone. */
  get target(): Buffer {
    return (this.buffer ??= Buffer.allocUnsafe(this.length));
  }

  /** Copies what of `chunk[at, end)` belongs to the body; returns where the body's bytes end. */
  copy(chunk: Buffer, at: number, end: number): number {
    const n = Math.min(this.missing, end - at);
    const body = this.target;
    if (n <= SMALL_COPY) {
      // Buffer#copy costs a call into C++ and, on Node 20, a view object; a short loop neither.
      for (let i = 0, o = this.received; i < n; i++) body[o + i] = chunk[at + i]!;
    } else {
      chunk.copy(body, this.received, at, at + n);
    }
    this.received += n;
    return at + n;
  }

  /** The whole body, once `missing` is 0; the reader lets go of it. */
  take(): Buffer {
    const body = this.target;
    this.buffer = null;
    return body;
  }
}

/**
 * The last view made of a fed chunk, handed out again for the same range of the same
 * memory. Reads into a reused buffer put each response at the same place: the view of
 * its head (llhttp takes no offsets) and of its body are then the same every time, and
 * a view costs about 100 bytes of heap. Safe because no view of a fed chunk is kept
 * past its use (see `feed()` and StreamEvent.Data).
 */
class ViewCache {
  private view: Buffer | null = null;

  of(chunk: Buffer, at: number, end: number): Buffer {
    const v = this.view;
    if (v !== null && v.buffer === chunk.buffer && v.byteOffset === chunk.byteOffset + at && v.length === end - at) return v;
    return (this.view = chunk.subarray(at, end));
  }

  /** Lets go of the memory viewed (a new stream may read into other buffers). */
  clear(): void {
    this.view = null;
  }
}

/** A body llhttp frames, gathered from the pieces it hands over (each a fresh copy). */
class GatheredBody {
  received = 0;
  /** The declared Content-Length, or -1. */
  private declared = -1;
  private buffer: Buffer | null = null;
  private chunks: Buffer[] | null = null;

  begin(declared: number): void {
    this.declared = declared;
    this.received = 0;
    this.buffer = null;
    this.chunks = null;
  }

  push(chunk: Buffer): void {
    const offset = this.received;
    this.received += chunk.length;
    if (this.buffer !== null) {
      chunk.copy(this.buffer, offset);
    } else if (this.chunks !== null) {
      this.chunks.push(chunk);
    } else if (chunk.length === this.declared) {
      this.buffer = chunk; // the whole body in one piece: no copy
    } else if (this.declared > 0 && this.declared <= PREALLOCATE_LIMIT) {
      this.buffer = Buffer.allocUnsafe(this.declared);
      chunk.copy(this.buffer, 0);
    } else {
      this.chunks = [chunk];
    }
  }

  /** The body so far, as one buffer; the reader lets go of it. */
  take(): Buffer {
    const { buffer, chunks } = this;
    this.buffer = null;
    this.chunks = null;
    if (buffer !== null) return buffer;
    if (chunks === null) return EMPTY_BODY;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.received);
  }

  /** Drops what was gathered (the response failed). */
  drop(): void {
    this.buffer = null;
    this.chunks = null;
  }
}

/** What a streamed response gives, in `ResponseParser.events`. */
export const enum StreamEvent {
  /** The final head: the next three `eventArgs` entries are its status code, raw headers and status message. */
  Head,
  /** A piece of the body: the next entry is a Buffer, maybe a view into the fed chunk. */
  Data,
  /** The end: completes the response (its entry in `done`); the next entry is its trailers. */
  End,
  /**
   * The connection switched protocols (a 101 to an upgrade, a 2xx to CONNECT): the next
   * three entries are status, raw headers and status message; the stream is over for
   * HTTP, and `upgradeRest` holds the bytes that came after the head.
   */
  Upgrade,
}

/** `expect()` flags of one expected response. */
const BODILESS = 1;
const STREAMED = 2;
/** The request asked to upgrade (a 101 hands its connection over). */
const UPGRADES = 4;
/** The request was CONNECT (a 2xx hands its connection over). */
const TUNNELS = 8;
/** llhttp's on_headers_complete answer: no body, the connection is upgraded. */
const UPGRADED = 2;

export class ResponseParser {
  /**
   * Completed responses not yet taken by the caller, oldest first. A streamed one went
   * out as `events`: its entry is a shared stand-in (see `streamedHead`) that tells only
   * its HTTP version.
   */
  readonly done = new Fifo<Response>();
  /**
   * What the responses of streamed requests gave, in order (see StreamEvent), with one
   * entry each in `eventArgs`. A Data view of a fed chunk is valid until the next feed.
   */
  readonly events = new Fifo<StreamEvent>();
  readonly eventArgs = new Fifo<Buffer | readonly string[] | string | number>();
  /** Why the oldest unanswered exchange failed, once it has. */
  error: HttpClientPoolError | null = null;
  /** Bytes came that no expected response accounts for: the stream can no longer be trusted. */
  unasked = false;
  /** The server allows the socket to be reused after the last completed response. */
  keepAlive = false;
  /** The server's `Keep-Alive: timeout=N` hint in ms, or -1. */
  keepAliveHint = -1;
  /** Final (non-1xx) heads parsed so far, on every stream: a caller compares it before and after a feed. */
  heads = 0;
  /** 100 Continue heads parsed so far, on every stream (for a request that waits for one). */
  continues = 0;

  private readonly native: NativeParser;
  private readonly P: NativeParserClass;
  /** Content-Length bodies are framed here (see framesOwnBodies). */
  private readonly framing: boolean;
  private readonly resource = {};
  private readonly maxHeaderSize: number;
  private readonly maxResponseSize: number;
  /** One entry per expected response, oldest first: BODILESS (HEAD) and STREAMED flags. */
  private readonly expected = new Fifo<number>();

  private mode = Mode.Head;
  /** How much of CR LF CR LF the bytes fed so far end with (0-3): a blank line split over reads. */
  private tail = 0;
  /** The bytes llhttp is executing end exactly where the head in them ends, if one does. */
  private exact = false;
  /** A head (final or interim) of the oldest unanswered response was parsed. */
  private begun = false;
  /** Some byte was fed since the last response completed: the oldest unanswered one has begun. */
  private fed = false;
  /** What `finish()` said at the end of the stream: llhttp stood inside a message. Null: not asked yet. */
  private cutShort: boolean | null = null;

  // The message being parsed: its final head (null before it, and for 1xx heads) and,
  // by `mode`, the reader of its body.
  /** The response being read, from its final head on; its body is set when complete. */
  private head: Response | null = null;
  /** Header fields flushed in batches (past 32 of them), then the trailers. */
  private fields: string[] = [];
  /** What the head says of the connection, applied when the message completes. */
  private headKeepAlive = false;
  private headHint = -1;
  private readonly framed = new FramedBody();
  private readonly gathered = new GatheredBody();
  private readonly headView = new ViewCache();
  private readonly bodyView = new ViewCache();
  /** The body of the message being read goes out as events rather than into a buffer. */
  private streaming = false;
  /** Body bytes given out as events for the message being read. */
  private streamed = 0;
  /** The last `Keep-Alive` value seen on this stream and its hint: servers repeat it on every response. */
  private lastKeepAlive = '';
  private lastKeepAliveHint = -1;

  constructor(maxHeaderSize: number, maxResponseSize: number) {
    this.maxHeaderSize = maxHeaderSize;
    this.maxResponseSize = maxResponseSize;
    const P = httpParser();
    this.P = P;
    this.framing = framesOwnBodies(P);
    const p = new P();
    p[P.kOnHeaders] = this.headerBatch.bind(this);
    p[P.kOnHeadersComplete] = this.headersComplete.bind(this);
    p[P.kOnBody] = this.bodyChunk.bind(this);
    p[P.kOnMessageComplete] = this.messageComplete.bind(this);
    this.native = p;
  }

  /** The final response head of the current exchange has been parsed. */
  get headComplete(): boolean {
    return this.head !== null;
  }

  /** The response being read, from its final head until it is complete; else null. */
  get current(): Response | null {
    return this.head;
  }

  /** Starts a new stream (a new socket). */
  reset(): void {
    this.native.initialize(this.P.RESPONSE, this.resource, this.maxHeaderSize, this.P.kLenientNone);
    this.upgraded = false;
    this.upgradeRest = null;
    this.done.clear();
    this.events.clear();
    this.eventArgs.clear();
    this.expected.clear();
    this.error = null;
    this.unasked = false;
    this.keepAlive = false;
    this.keepAliveHint = -1;
    this.mode = Mode.Head;
    this.tail = 0;
    this.begun = false;
    this.fed = false;
    this.cutShort = null;
    this.headView.clear();
    this.bodyView.clear();
    this.nextMessage();
  }

  /**
   * One more response is expected on this stream. `bodiless`: the request was HEAD;
   * `streams`: its body goes out as events as it arrives instead of into one buffer.
   */
  expect(bodiless: boolean, streams = false, upgrade = 0): void {
    this.expected.push((bodiless ? BODILESS : 0) | (streams ? STREAMED : 0) | (upgrade === 1 ? UPGRADES : upgrade === 2 ? TUNNELS : 0));
  }

  /** After an Upgrade event: the bytes that followed the head (the new protocol's first), copied. */
  upgradeRest: Buffer | null = null;
  /** The connection was handed over: nothing more is parsed. */
  upgraded = false;

  /** Parses `chunk`, or its first `end` bytes (a read into a reused buffer). */
  feed(chunk: Buffer, end = chunk.length): void {
    let at = 0;
    while (at < end && this.error === null && !this.unasked && !this.upgraded) {
      if (this.mode === Mode.OwnBody) {
        at = this.streaming ? this.streamFramed(chunk, at, end) : this.framed.copy(chunk, at, end);
        if (this.framed.missing === 0) this.framedDone();
        continue;
      }
      let stop = end;
      this.exact = false;
      const fromHead = this.mode === Mode.Head;
      if (fromHead) {
        // Every expected response is complete: whatever comes now, nobody asked for.
        if (this.expected.length === 0) {
          this.unasked = true;
          return;
        }
        this.fed = true;
        const blank = blankLineEnd(chunk, at, end, this.tail);
        if (blank >= 0) {
          stop = blank;
          this.exact = true;
        }
      }
      const begin = at;
      const r = this.native.execute(at === 0 && stop === chunk.length ? chunk : this.headView.of(chunk, at, stop));
      this.exact = false;
      if (typeof r !== 'number') return this.failed(r as NativeParseError);
      this.tail = endMatch(this.tail, chunk, at, stop);
      at = stop;
      if (this.upgraded) {
        // llhttp stopped at the end of the head (it says how far it read); what follows is the new protocol's.
        const from = begin + r;
        this.upgradeRest = from < end ? Buffer.from(chunk.subarray(from, end)) : null;
        return;
      }
      // llhttp went on past a body it framed; a message it began after the last expected
      // one (a partial head, say) must not wait there for the next request's bytes.
      if (!fromHead && this.mode === Mode.Head && this.expected.length === 0 && this.native.finish() !== undefined) this.unasked = true;
    }
  }

  /**
   * Where the socket may read its next bytes to: the missing rest of a Content-Length
   * body framed here, when at least `min` bytes are missing; otherwise null.
   */
  bodyTarget(min: number): Buffer | null {
    const f = this.framed;
    if (this.mode !== Mode.OwnBody || this.streaming || f.missing < min) return null;
    return f.target.subarray(f.received);
  }

  /** `n` bytes were read straight into the last `bodyTarget()`. */
  bodyFilled(n: number): void {
    const f = this.framed;
    f.received += n;
    if (f.missing === 0) this.framedDone();
  }

  /**
   * The stream ended. Completes a close-delimited body; returns true when the oldest
   * expected response is now complete. Otherwise it was cut short (or never began).
   */
  eof(): boolean {
    if (this.expected.length !== 0 && this.error === null) {
      if (this.mode === Mode.OwnBody) {
        this.error = new ParseError('HPE_INVALID_EOF_STATE', 'Invalid EOF state', {});
      } else {
        const before = this.done.length;
        if (this.askFinish() && this.done.length === before) {
          this.error = new ParseError('HPE_INVALID_EOF_STATE', 'Invalid EOF state', {});
        }
      }
    }
    return this.done.length !== 0;
  }

  /**
   * Some byte of the oldest unanswered response arrived (an interim one, or bytes nobody
   * can read, count): that request must never be sent again. Bytes fed from the start
   * of a head are seen here; a head that llhttp began inside the same call that
   * completed the response before it is not, so then llhttp is asked whether it stands
   * inside a message, which ends the stream: call this only when the socket is over.
   */
  responseBegun(): boolean {
    return this.fed || this.begun || this.mode === Mode.OwnBody || this.askFinish();
  }

  /** Frees the native parser. Never call from inside `feed()`. */
  close(): void {
    this.native.close();
  }

  /** llhttp's `finish()`, asked once per stream: true when it stood inside a message. */
  private askFinish(): boolean {
    this.cutShort ??= this.native.finish() !== undefined;
    return this.cutShort;
  }

  private failed(r: NativeParseError): void {
    // An error after the last expected response completed is about bytes nobody asked for.
    // So is anything after a final response that closed the connection
    // (HPE_CLOSED_CONNECTION): the requests behind it were never answered. After an
    // interim (1xx) response that closed it, the error is the answered request's own.
    if (this.expected.length === 0 && this.done.length !== 0) this.unasked = true;
    else if (r.code === 'HPE_CLOSED_CONNECTION' && !this.keepAlive && !this.begun) this.unasked = true;
    else if (this.error === null) this.error = new ParseError(r.code ?? 'HPE_UNKNOWN', r.reason ?? r.message, {});
  }

  /** Ready for the next message's head. */
  private nextMessage(): void {
    this.head = null;
    if (this.fields.length !== 0) this.fields = [];
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
    if (this.unasked || this.error !== null) return NO_BODY;
    if (this.expected.length === 0) {
      // A message nobody asked for: not ours to read.
      this.unasked = true;
      return NO_BODY;
    }
    this.begun = true;
    const raw = headers ?? this.fields;
    if (headers === undefined) this.fields = [];
    const wants = this.expected.at(0);
    if ((wants & UPGRADES) !== 0 ? statusCode === 101 : (wants & TUNNELS) !== 0 && statusCode >= 200 && statusCode < 300) {
      this.upgraded = true;
      this.expected.shift();
      this.events.push(StreamEvent.Upgrade);
      this.eventArgs.push(statusCode);
      this.eventArgs.push(raw);
      this.eventArgs.push(statusMessage);
      return UPGRADED;
    }
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
      if (statusCode === 100) this.continues++;
      return NO_BODY;
    }
    const httpVersion = versionMajor === 1 && versionMinor === 1 ? '1.1' : `${versionMajor}.${versionMinor}`;
    const flags = this.expected.at(0);
    this.streaming = (flags & STREAMED) !== 0;
    this.streamed = 0;
    if (this.streaming) {
      // The head goes out as it is, with no Response made of it.
      this.head = streamedHead(httpVersion);
      this.events.push(StreamEvent.Head);
      this.eventArgs.push(statusCode);
      this.eventArgs.push(raw);
      this.eventArgs.push(statusMessage);
    } else {
      this.head = new Response(statusCode, statusMessage, httpVersion, raw, null, EMPTY_BODY);
    }
    // The fields the client itself acts on. llhttp has already validated them.
    let length = -1;
    let chunkedOrCoded = false;
    this.headHint = -1;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const n = name.length;
      if (n === 14 && isName(name, 'content-length', 'Content-Length')) {
        length = Number(raw[i + 1]);
      } else if (n === 10 && isName(name, 'keep-alive', 'Keep-Alive')) {
        const value = raw[i + 1]!;
        if (value !== this.lastKeepAlive) {
          this.lastKeepAlive = value;
          this.lastKeepAliveHint = keepAliveTimeout(value);
        }
        this.headHint = this.lastKeepAliveHint;
      } else if (n === 17 && isName(name, 'transfer-encoding', 'Transfer-Encoding')) {
        chunkedOrCoded = true;
      }
    }
    const bodiless = (flags & BODILESS) !== 0;
    // llhttp decides keep-alive before it learns a HEAD response has no body, so a HEAD
    // answered without a length looks close-delimited to it; it ends at its blank line.
    this.headKeepAlive = shouldKeepAlive || (bodiless && connectionAllowsReuse(versionMajor, versionMinor, connectionValue(raw)));
    this.heads++;
    const hasBody = !bodiless && statusCode !== 204 && statusCode !== 304;
    if (hasBody && length > this.maxResponseSize) {
      this.error = new ResponseTooLargeError(this.maxResponseSize, {});
      return NO_BODY;
    }
    if (this.framing && hasBody && length > 0 && length <= PREALLOCATE_LIMIT && this.exact && !chunkedOrCoded) {
      // The head ends exactly where llhttp's input does: the body is framed here.
      this.framed.begin(length);
      this.mode = Mode.OwnBody;
      return NO_BODY;
    }
    this.gathered.begin(length);
    this.mode = Mode.LlhttpBody;
    return bodiless ? NO_BODY : WITH_BODY;
  }

  private framedDone(): void {
    this.mode = Mode.Head;
    this.complete(this.streaming ? EMPTY_BODY : this.framed.take());
  }

  /** A framed body's bytes in `chunk[at, end)` go out as a view; returns where they end. */
  private streamFramed(chunk: Buffer, at: number, end: number): number {
    const f = this.framed;
    const n = Math.min(f.missing, end - at);
    f.received += n;
    this.streamed += n;
    this.emit(StreamEvent.Data, this.bodyView.of(chunk, at, at + n));
    return at + n;
  }

  private emit(kind: StreamEvent, arg: Buffer | readonly string[]): void {
    this.events.push(kind);
    this.eventArgs.push(arg);
  }

  private bodyChunk(chunk: Buffer): void {
    if (this.error !== null || this.unasked) return;
    if (this.streaming) {
      // Node's binding hands each piece over as a fresh copy: it can go out as it is.
      if (this.streamed + chunk.length > this.maxResponseSize) {
        this.error = new ResponseTooLargeError(this.maxResponseSize, {});
        return;
      }
      this.streamed += chunk.length;
      this.emit(StreamEvent.Data, chunk);
      return;
    }
    const g = this.gathered;
    if (g.received + chunk.length > this.maxResponseSize) {
      this.error = new ResponseTooLargeError(this.maxResponseSize, {});
      g.drop();
      return;
    }
    g.push(chunk);
  }

  private messageComplete(): void {
    if (this.unasked || this.error !== null || this.mode === Mode.OwnBody || this.upgraded) return;
    this.mode = Mode.Head;
    if (this.head === null) {
      this.nextMessage(); // an interim (1xx) response: the final one follows
      return;
    }
    this.complete(this.streaming ? EMPTY_BODY : this.gathered.take());
  }

  private complete(body: Buffer): void {
    const res = this.head!;
    const trailers = this.fields.length !== 0 ? this.fields : null;
    if (this.streaming) this.emit(StreamEvent.End, trailers ?? NO_TRAILERS);
    else completeResponse(res, body, trailers);
    this.done.push(res);
    this.expected.shift();
    this.keepAlive = this.headKeepAlive;
    this.keepAliveHint = this.headHint;
    this.begun = false;
    this.fed = false;
    this.nextMessage();
  }
}

const STREAMED_11 = new Response(0, '', '1.1', [], null, EMPTY_BODY);
const STREAMED_10 = new Response(0, '', '1.0', [], null, EMPTY_BODY);

/** The stand-in for a streamed response in `done` and `current`: the same object every time. */
function streamedHead(httpVersion: string): Response {
  return httpVersion === '1.1' ? STREAMED_11 : httpVersion === '1.0' ? STREAMED_10 : new Response(0, '', httpVersion, [], null, EMPTY_BODY);
}

/** A stand-in made by `streamedHead`: its head went out as events. */
export function isStreamedHead(res: Response): boolean {
  return res.statusCode === 0;
}

/**
 * Where the first blank line (CR LF CR LF) at or after `from` ends, or -1. `tail` is
 * how much of one the bytes before `from` already ended with.
 */
function blankLineEnd(buf: Buffer, from: number, end: number, tail: number): number {
  let state = tail;
  const lead = Math.min(end, from + 3);
  for (let i = from; i < lead && state !== 0; i++) {
    state = step(state, buf[i]!);
    if (state === 4) return i + 1;
  }
  if (end - from <= SHORT_SCAN) {
    // A head in one read is short: a loop beats a round trip into C++.
    for (let i = from + 3; i < end; i++) {
      if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
    }
    return -1;
  }
  // indexOf takes no end: a blank line past `end` (stale bytes of a reused read buffer) is no match.
  const i = buf.indexOf(BLANK_LINE, from);
  return i < 0 || i + 4 > end ? -1 : i + 4;
}

const BLANK_LINE = Buffer.from('\r\n\r\n', 'latin1');
/** Up to this many bytes, blankLineEnd() scans in JavaScript. */
const SHORT_SCAN = 512;

/** How much of CR LF CR LF the stream ends with after `buf[from, to)`, given `tail` before it. */
function endMatch(tail: number, buf: Buffer, from: number, to: number): number {
  // A match is at most 3 bytes long: the last 3 bytes decide it, when there are 3.
  let state = to - from >= 3 ? 0 : tail;
  for (let i = Math.max(from, to - 3); i < to; i++) state = step(state, buf[i]!);
  return state === 4 ? 0 : state;
}

/** One step of matching CR LF CR LF: `state` bytes of it matched before byte `b`. */
function step(state: number, b: number): number {
  if (b === 13) return state === 2 ? 3 : 1;
  if (b === 10) return state === 1 ? 2 : state === 3 ? 4 : 0;
  return 0;
}

/** `name` is `lower` in any case; the two usual spellings are checked without building a string. */
function isName(name: string, lower: string, canonical: string): boolean {
  return name === lower || name === canonical || name.toLowerCase() === lower;
}

/** The `Connection` header's values, comma-joined (only asked for HEAD answers). */
function connectionValue(raw: string[]): string {
  let value = '';
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'connection') value += ',' + raw[i + 1]!;
  return value;
}

