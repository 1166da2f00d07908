// Request heads and bodies to bytes. Pure: no sockets. Everything a caller passes
// is validated here, so a bad method, path, header or body is refused before any
// byte reaches a socket, and no caller-supplied CR/LF can split the head.
import { Blob } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';
import type { Body, Headers, HeaderValue } from '../options.js';

/** What an encoded request carries to the socket. */
export interface Encoded {
  /** Request line and header section; the body too when it was small enough to merge (one write). */
  head: Buffer;
  /** A body too large to merge into `head`, written right after it; else null. */
  body: Buffer | null;
  /** The caller asked for `Connection: close`: the socket is not reused after this request. */
  closeAfter: boolean;
  /** A streamed body, read and written after `head`; null for a body in bytes (so a request grows by one field). */
  streamed: Streamed | null;
}

/** A body sent as it is read. */
export class Streamed {
  constructor(
    /** The body as an async iterable (a Blob's stream). */
    readonly source: AsyncIterable<unknown>,
    /** The declared length; -1: it goes `transfer-encoding: chunked`. */
    readonly length: number,
    /** The head says `Expect: 100-continue`: the body waits for the server's 100 (or a timeout). */
    readonly expectContinue: boolean,
  ) {}
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible ASCII, space, tab and obs-text; never CR, LF, NUL or other controls. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Request targets: visible ASCII only. Spaces, controls and non-ASCII must be percent-encoded. */
const BAD_PATH = /[^\x21-\x7e]/;

/** Bodies up to this size are copied behind the head so the request goes out in one write. */
const MERGE_LIMIT = 64 * 1024;
/** Most distinct paths whose GET head is kept ready-made. */
const HEAD_CACHE_LIMIT = 1024;

/** Methods that expect a body get `Content-Length: 0` when sent without one, as browsers and node:http do. */
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);
const NO_BODY_ALLOWED = new Set(['HEAD', 'TRACE']);

/** `tunnels`: the call may take its socket out of the pool (undici's dispatch), so CONNECT is allowed. */
export function validateMethod(method: unknown, tunnels = false): asserts method is string {
  if (method === 'GET' || method === 'POST') return; // the calls get() and post() make
  if (typeof method !== 'string' || !TOKEN.test(method)) {
    throw new InvalidArgumentError(`invalid method: ${JSON.stringify(method)}`);
  }
  if (method === 'CONNECT' && !tunnels) throw new InvalidArgumentError('CONNECT is only taken by dispatch() (undici.connect): its socket leaves the pool');
}

export function validatePath(path: string): void {
  if (path.length === 0 || BAD_PATH.test(path)) {
    throw new InvalidArgumentError(
      `invalid request path ${JSON.stringify(path)}: it must be non-empty visible ASCII (percent-encode spaces, controls and non-ASCII)`,
    );
  }
}

/** Encodes requests for one origin. Holds the origin's pre-serialised default headers and GET heads. */
export class RequestEncoder {
  private readonly host: string;
  private readonly defaults: readonly (readonly [lowerName: string, lines: string])[];
  private readonly defaultLines: string;
  private readonly defaultsHaveHost: boolean;
  private readonly defaultContentType: boolean;
  private readonly defaultClose: boolean;
  private readonly getHeads = new Map<string, Buffer>();

  /**
   * `targetPrefix`: put before every path on the request line; `http://host:port` for
   * requests in absolute form (to a proxy), else `''`.
   */
  constructor(hostHeader: string, defaultHeaders: Headers, private readonly targetPrefix = '') {
    this.host = hostHeader;
    const defaults: (readonly [string, string])[] = [];
    let close = false;
    for (const name of Object.keys(defaultHeaders)) {
      const value = defaultHeaders[name];
      if (value === undefined) continue;
      const lower = checkName(name);
      if (lower === 'content-length') throw new InvalidArgumentError('content-length cannot be a default header');
      if (special(lower, value)) close = true;
      defaults.push([lower, fieldLines(name, lower, value)]);
    }
    this.defaults = defaults;
    this.defaultLines = defaults.map((d) => d[1]).join('');
    this.defaultsHaveHost = defaults.some((d) => d[0] === 'host');
    this.defaultContentType = defaults.some((d) => d[0] === 'content-type');
    this.defaultClose = close;
  }

  /** Encodes into `out`. Throws `InvalidArgumentError` for anything that cannot be sent. */
  encode(out: Encoded, method: string, path: string, headers: Headers | undefined, body: Body | null | undefined, expectContinue = false): void {
    out.body = null;
    out.streamed = null;
    out.closeAfter = this.defaultClose;
    const plainGet = method === 'GET' && headers === undefined && (body === undefined || body === null);
    if (plainGet) {
      const cached = this.getHeads.get(path);
      if (cached !== undefined) {
        out.head = cached;
        return;
      }
    }
    validatePath(path);
    let lines = this.defaultLines;
    let hasHost = this.defaultsHaveHost;
    let hasContentType = this.defaultContentType;
    let declaredLength = -1;
    if (headers !== undefined) {
      if (headers === null || typeof headers !== 'object') throw new InvalidArgumentError('headers must be an object');
      let own = '';
      // Only needed to let per-request headers replace defaults of the same name.
      const given = this.defaults.length !== 0 ? new Set<string>() : null;
      for (const name of Object.keys(headers)) {
        const value = headers[name];
        if (value === undefined) continue;
        const lower = checkName(name);
        if (lower === 'content-length') {
          declaredLength = contentLength(value); // we write it ourselves, below
          continue;
        }
        if (lower === 'connection') out.closeAfter = special(lower, value);
        else special(lower, value);
        if (lower === 'host') hasHost = true;
        else if (lower === 'content-type') hasContentType = true;
        given?.add(lower);
        own += fieldLines(name, lower, value);
      }
      if (given === null) {
        lines = own;
      } else {
        let kept = '';
        for (const [lower, defaultLines] of this.defaults) if (!given.has(lower)) kept += defaultLines;
        lines = kept + own;
      }
    }

    let bodyBytes: Buffer | null = null;
    let bodyText: string | null = null;
    let bodyLength = -1;
    if (body !== undefined && body !== null) {
      if (NO_BODY_ALLOWED.has(method)) throw new InvalidArgumentError(`a ${method} request cannot have a body`);
      if (typeof body === 'string') {
        bodyText = body;
        bodyLength = Buffer.byteLength(body);
      } else if (body instanceof Uint8Array) {
        bodyBytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
        bodyLength = bodyBytes.length;
      } else if (isStream(body)) {
        return this.encodeStreamed(out, method, path, lines, hasHost, declaredLength, body, expectContinue);
      } else if (isJSONable(body)) {
        bodyText = toJSON(body);
        bodyLength = Buffer.byteLength(bodyText);
        if (!hasContentType) lines += 'content-type: application/json\r\n';
      } else {
        throw new InvalidArgumentError('body must be a string, Buffer, Uint8Array, Readable, async iterable, ReadableStream, Blob, plain object or array');
      }
    } else if (EXPECTS_BODY.has(method)) {
      bodyLength = 0;
    }
    if (declaredLength >= 0 && declaredLength !== Math.max(bodyLength, 0)) {
      throw new InvalidArgumentError(`content-length ${declaredLength} does not match the body's ${Math.max(bodyLength, 0)} bytes`);
    }
    if (expectContinue && bodyLength > 0) {
      // The body waits for the 100: it goes after the head, as a one-piece stream.
      const bytes = bodyBytes ?? Buffer.from(bodyText!, 'utf8');
      return this.encodeStreamed(out, method, path, lines, hasHost, bodyLength, onePiece(bytes), true);
    }

    let head = `${method} ${this.targetPrefix}${path} HTTP/1.1\r\n`;
    if (!hasHost) head += `host: ${this.host}\r\n`;
    head += lines;
    if (bodyLength >= 0) head += `content-length: ${bodyLength}\r\n`;
    head += '\r\n';

    if (bodyLength <= 0) {
      out.head = Buffer.from(head, 'latin1');
      if (plainGet && this.getHeads.size < HEAD_CACHE_LIMIT) this.getHeads.set(path, out.head);
    } else if (bodyLength <= MERGE_LIMIT) {
      const buf = Buffer.allocUnsafe(head.length + bodyLength);
      buf.write(head, 0, 'latin1');
      if (bodyText !== null) buf.write(bodyText, head.length, 'utf8');
      else bodyBytes!.copy(buf, head.length);
      out.head = buf;
    } else {
      out.head = Buffer.from(head, 'latin1');
      out.body = bodyBytes ?? Buffer.from(bodyText!, 'utf8');
    }
  }

  /**
   * A streamed body: the head alone, with the caller's `content-length` (or a Blob's
   * size) or else `transfer-encoding: chunked`; the body is read and framed as it is sent.
   */
  private encodeStreamed(out: Encoded, method: string, path: string, lines: string, hasHost: boolean, declared: number, body: object, expectContinue: boolean): void {
    let source: AsyncIterable<unknown>;
    if (body instanceof Blob) {
      if (declared >= 0 && declared !== body.size) {
        throw new InvalidArgumentError(`content-length ${declared} does not match the Blob's ${body.size} bytes`);
      }
      declared = body.size;
      source = body.stream() as unknown as AsyncIterable<unknown>;
    } else {
      source = body as AsyncIterable<unknown>;
    }
    let head = `${method} ${this.targetPrefix}${path} HTTP/1.1\r\n`;
    if (!hasHost) head += `host: ${this.host}\r\n`;
    head += lines;
    if (expectContinue) head += 'expect: 100-continue\r\n';
    head += declared >= 0 ? `content-length: ${declared}\r\n\r\n` : 'transfer-encoding: chunked\r\n\r\n';
    out.head = Buffer.from(head, 'latin1');
    out.streamed = new Streamed(source, declared, expectContinue);
  }
}

/** A body in bytes as a stream of one piece (a body that waits for a 100 Continue). */
async function* onePiece(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** A body read as it is sent: anything async-iterable (Readable, web ReadableStream, generators) or a Blob. */
export function isStream(body: object): boolean {
  return typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function' || body instanceof Blob;
}

/** The same request with `connection: close` added at the end of its header section. */
export function withConnectionClose(head: Buffer): Buffer {
  const end = head.indexOf('\r\n\r\n');
  return Buffer.concat([head.subarray(0, end + 2), CONNECTION_CLOSE, head.subarray(end + 2)]);
}

const CONNECTION_CLOSE = Buffer.from('connection: close\r\n', 'latin1');

/** The same request asking to switch its connection to `protocol` (checked as a token). */
export function withUpgrade(head: Buffer, protocol: string): Buffer {
  if (!TOKEN_LIST.test(protocol)) throw new InvalidArgumentError(`invalid upgrade protocol: ${JSON.stringify(protocol)}`);
  const end = head.indexOf('\r\n\r\n');
  return Buffer.concat([head.subarray(0, end + 2), Buffer.from(`connection: upgrade\r\nupgrade: ${protocol}\r\n`, 'latin1'), head.subarray(end + 2)]);
}

/** An Upgrade value: protocols (token, optionally /version), comma separated. */
const TOKEN_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z/]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z/]+)*$/;

/** True for the methods that may be resent when a reused socket fails before any response (RFC 9110 9.2.2). */
export function isIdempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'PUT':
    case 'DELETE':
    case 'TRACE':
      return true;
    default:
      return false;
  }
}

function checkName(name: string): string {
  if (!TOKEN.test(name)) throw new InvalidArgumentError(`invalid header name: ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

function fieldLines(name: string, lower: string, value: HeaderValue): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return `${name}: ${checkValue(lower, value)}\r\n`;
  if (typeof value === 'number' && Number.isFinite(value)) return `${name}: ${value}\r\n`;
  if (Array.isArray(value)) {
    let out = '';
    for (const v of value as unknown[]) {
      if (typeof v !== 'string') throw new InvalidArgumentError(`header ${name}: array values must be strings`);
      out += `${name}: ${checkValue(lower, v)}\r\n`;
    }
    return out;
  }
  throw new InvalidArgumentError(`header ${name}: value must be a string, finite number or array of strings`);
}

function checkValue(lower: string, value: string): string {
  if (BAD_VALUE.test(value)) {
    throw new InvalidArgumentError(`header ${lower}: value contains CR, LF, NUL or another forbidden character`);
  }
  return value;
}

function contentLength(value: HeaderValue): number {
  const s = typeof value === 'number' ? String(value) : value;
  if (typeof s !== 'string' || !/^\d{1,15}$/.test(s)) {
    throw new InvalidArgumentError(`invalid content-length: ${JSON.stringify(value)}`);
  }
  return Number(s);
}

/**
 * Refuses the headers the client manages itself. For `connection`, returns whether
 * it asks for the socket to be closed after the response.
 */
function special(lower: string, value: HeaderValue): boolean {
  switch (lower) {
    case 'connection': {
      const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
      if (v === 'close') return true;
      if (v === 'keep-alive') return false;
      throw new InvalidArgumentError('the connection header may only be "close" or "keep-alive"');
    }
    case 'transfer-encoding':
    case 'upgrade':
    case 'expect':
    case 'keep-alive':
    case 'te':
    case 'trailer':
      throw new InvalidArgumentError(`the ${lower} header is managed by the client and cannot be set`);
    default:
      return false;
  }
}

function isJSONable(body: object): boolean {
  if (Array.isArray(body)) return true;
  const proto: unknown = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}

function toJSON(body: object): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    throw new InvalidArgumentError(`body cannot be serialised as JSON: ${(err as Error).message}`);
  }
}
