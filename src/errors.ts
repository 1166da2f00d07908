// Every error the library throws or rejects with. Each class has a stable `code`
// that callers can switch on; messages may change, codes do not.

/** Where in a request's life an error happened. */
export type Phase =
  | 'call' // validating the call, before anything touched a socket
  | 'queue' // waiting for a free socket
  | 'dial' // TCP connect
  | 'tls' // TLS handshake
  | 'write' // writing the request
  | 'headers' // waiting for / reading the response head
  | 'body' // reading the response body
  | 'idle'; // socket parked between requests

export interface ErrorContext {
  /** `scheme://host:port` of the request, when known. */
  origin?: string;
  /** Socket slot within its origin (0..size-1), when a socket was involved. */
  socketId?: number;
  phase?: Phase;
  cause?: unknown;
}

/** Base class of every error of this library. */
export class HttpClientPoolError extends Error {
  readonly code: string;
  origin: string | undefined;
  socketId: number | undefined;
  phase: Phase | undefined;

  constructor(message: string, code: string, ctx?: ErrorContext) {
    super(message, ctx?.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = new.target.name;
    this.code = code;
    this.origin = ctx?.origin;
    this.socketId = ctx?.socketId;
    this.phase = ctx?.phase;
  }
}

/** Bad option or call argument. Thrown (or rejected) before anything is written. */
export class InvalidArgumentError extends HttpClientPoolError {
  constructor(message: string) {
    super(message, 'HCP_INVALID_ARGUMENT', { phase: 'call' });
  }
}

/** TCP connect failed (refused, unreachable, DNS). `cause` holds the system error. */
export class ConnectError extends HttpClientPoolError {
  constructor(message: string, ctx: ErrorContext) {
    super(message, 'HCP_CONNECT', { phase: 'dial', ...ctx });
  }
}

/** TCP connect did not complete within `dialTimeout`. */
export class ConnectTimeoutError extends HttpClientPoolError {
  constructor(ms: number, ctx: ErrorContext) {
    super(`connect timed out after ${ms} ms`, 'HCP_CONNECT_TIMEOUT', { phase: 'dial', ...ctx });
  }
}

/**
 * The proxy refused the tunnel or the request: it answered the CONNECT with a status
 * other than 2xx (407: its credentials are missing or wrong; 403, 502, ...), or its
 * answer was not HTTP. `statusCode` is the proxy's status (0 when it sent none).
 * Nothing reached the target; the request is not retried.
 */
export class ProxyError extends HttpClientPoolError {
  readonly statusCode: number;
  /** The proxy, `scheme://host:port` (no credentials). */
  readonly proxy: string;
  constructor(message: string, statusCode: number, proxy: string, ctx: ErrorContext) {
    super(message, 'HCP_PROXY', { phase: 'dial', ...ctx });
    this.statusCode = statusCode;
    this.proxy = proxy;
  }
}

/** TLS handshake failed, e.g. the certificate was not trusted. `cause` holds the TLS error. */
export class TLSError extends HttpClientPoolError {
  constructor(message: string, ctx: ErrorContext) {
    super(message, 'HCP_TLS', { phase: 'tls', ...ctx });
  }
}

/** TLS handshake did not complete within `tlsTimeout`. */
export class TLSTimeoutError extends HttpClientPoolError {
  constructor(ms: number, ctx: ErrorContext) {
    super(`TLS handshake timed out after ${ms} ms`, 'HCP_TLS_TIMEOUT', { phase: 'tls', ...ctx });
  }
}

/**
 * A streamed request body could not be sent as declared: it turned out longer or shorter
 * than its `content-length` (nothing past the declared length is sent), its source
 * failed (`cause`), or it needs chunked framing an HTTP/1.0 peer cannot take. The
 * request fails and its socket is dropped; it is never resent.
 */
export class RequestBodyError extends HttpClientPoolError {
  constructor(message: string, ctx: ErrorContext) {
    super(message, 'HCP_REQUEST_BODY', { phase: 'write', ...ctx });
  }
}

/** The response head did not arrive within `responseHeaderTimeout` of the request being written. */
export class HeadersTimeoutError extends HttpClientPoolError {
  constructor(ms: number, ctx: ErrorContext) {
    super(`response headers not received within ${ms} ms`, 'HCP_HEADERS_TIMEOUT', { phase: 'headers', ...ctx });
  }
}

/** No byte of the response body arrived for `bodyTimeout` (between the head and the last byte). */
export class BodyTimeoutError extends HttpClientPoolError {
  constructor(ms: number, ctx: ErrorContext) {
    super(`no response body bytes received for ${ms} ms`, 'HCP_BODY_TIMEOUT', { phase: 'body', ...ctx });
  }
}

/** Writing the request made no progress for `writeTimeout`: the server stopped reading it. */
export class WriteTimeoutError extends HttpClientPoolError {
  constructor(ms: number, ctx: ErrorContext) {
    super(`the request could not be written: no progress for ${ms} ms`, 'HCP_WRITE_TIMEOUT', { phase: 'write', ...ctx });
  }
}

/** A dispatch handler method threw; `cause` is what it threw. The request ended there. */
export class HandlerError extends HttpClientPoolError {
  constructor(cause: unknown) {
    super(`a dispatch handler threw: ${cause instanceof Error ? cause.message : String(cause)}`, 'HCP_HANDLER', { cause });
  }
}

/** The whole request did not finish within `requestTimeout` (or the per-request `timeout`). */
export class RequestTimeoutError extends HttpClientPoolError {
  constructor(ms: number, ctx: ErrorContext) {
    super(`request did not complete within ${ms} ms`, 'HCP_REQUEST_TIMEOUT', ctx);
  }
}

/** The request's AbortSignal fired. Same `name` and `code` as Node's own AbortError. */
export class AbortError extends HttpClientPoolError {
  constructor(ctx: ErrorContext) {
    super('the request was aborted', 'ABORT_ERR', ctx);
    this.name = 'AbortError';
  }
}

/** The socket closed or failed (reset, EOF) before the response was complete. */
export class SocketError extends HttpClientPoolError {
  constructor(message: string, ctx: ErrorContext) {
    super(message, 'HCP_SOCKET', ctx);
  }
}

/** The server sent bytes that are not a valid HTTP/1.1 response. `parserCode` is llhttp's `HPE_*`. */
export class ParseError extends HttpClientPoolError {
  readonly parserCode: string;
  constructor(parserCode: string, reason: string, ctx: ErrorContext) {
    super(`invalid response: ${reason} (${parserCode})`, 'HCP_PARSE', ctx);
    this.parserCode = parserCode;
  }
}

/** The server answered with 101 Switching Protocols or another upgrade, which this client never asks for. */
export class UpgradeError extends HttpClientPoolError {
  constructor(ctx: ErrorContext) {
    super('the server switched protocols, which this client does not support', 'HCP_UPGRADE', ctx);
  }
}

/** The response body is larger than `maxResponseSize`. */
export class ResponseTooLargeError extends HttpClientPoolError {
  constructor(limit: number, ctx: ErrorContext) {
    super(`response body exceeds maxResponseSize (${limit} bytes)`, 'HCP_RESPONSE_TOO_LARGE', { phase: 'body', ...ctx });
  }
}

/** A request was made after `close()`. */
export class PoolClosedError extends HttpClientPoolError {
  constructor() {
    super('the pool is closed', 'HCP_POOL_CLOSED', { phase: 'call' });
  }
}

/** The pool was destroyed while the request was queued or in flight. */
export class PoolDestroyedError extends HttpClientPoolError {
  constructor() {
    super('the pool was destroyed', 'HCP_POOL_DESTROYED');
  }
}

/** Node's internal HTTP parser is missing or has changed shape on this Node version. */
export class ParserUnavailableError extends HttpClientPoolError {
  constructor(detail: string) {
    super(
      `http-client-pool needs Node's built-in HTTP parser (_http_common.HTTPParser), ` +
        `which is unusable on Node ${process.version}: ${detail}`,
      'HCP_PARSER_UNAVAILABLE',
    );
  }
}
