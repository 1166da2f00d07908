// One call sent through node:http: its request, its timers (whole request, response
// head and body gap; dial, TLS and idle belong to the socket), cancellation, and the
// mapping of node's errors onto this library's classes.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { arm, disarm, type Timed } from '../conn/timers.js';
import {
  AbortError,
  BodyTimeoutError,
  ConnectError,
  HeadersTimeoutError,
  HttpClientPoolError,
  ParseError,
  RequestTimeoutError,
  ResponseTooLargeError,
  SocketError,
  TLSError,
  UpgradeError,
  type Phase,
} from '../errors.js';
import type { Queued } from '../pool/queue.js';
import { Response } from '../response.js';
import { connectionAllowsReuse, idleTime, keepAliveTimeout } from '../keep-alive.js';
import {
  connectErrorChannel,
  nextRequestId,
  requestEndChannel,
  requestErrorChannel,
  requestStartChannel,
  responseHeadersChannel,
  type RequestInfo,
} from '../diagnostics.js';
import type { SocketInfo } from './agent.js';

/** What an exchange needs of its slot. */
export interface NodeSlot {
  readonly id: number;
  requests: number;
  errors: number;
  readonly agent: http.Agent;
  info(socket: net.Socket): SocketInfo | undefined;
}

/** What an exchange reports to its origin. */
export interface ExchangeOwner {
  readonly origin: string;
  readonly secure: boolean;
  readonly requestOptions: http.RequestOptions;
  readonly responseHeaderTimeout: number;
  readonly bodyTimeout: number;
  readonly idleConnTimeout: number;
  readonly maxResponseSize: number;
  unqueue(ex: NodeExchange): void;
  /** The exchange left its slot (done, failed, or to be moved). */
  released(slot: NodeSlot): void;
  /** Its socket could not be opened; nothing was sent. */
  dialFailed(ex: NodeExchange, err: HttpClientPoolError): void;
  settled(ex: NodeExchange): void;
}

/**
 * The phase deadline of an exchange: the response head, then the gap between body
 * reads (the exchange itself holds the whole-request one).
 */
class PhaseTimer implements Timed {
  deadline = 0;
  clockIndex = -1;
  /** Which phase it times: set before each arm. */
  body = false;
  constructor(private readonly ex: NodeExchange) {}
  expire(): void {
    const { owner } = this.ex;
    this.ex.abortRequest(this.body ? new BodyTimeoutError(owner.bodyTimeout, {}) : new HeadersTimeoutError(owner.responseHeaderTimeout, {}));
  }
}

export class NodeExchange implements Queued<NodeExchange>, Timed {
  prev: NodeExchange | null = null;
  next: NodeExchange | null = null;
  queued = false;
  deadline = 0;
  clockIndex = -1;

  slot: NodeSlot | null = null;
  dialFailures = 0;
  readonly id = nextRequestId();
  readonly promise: Promise<Response>;

  private resolve!: (res: Response) => void;
  private reject!: (err: Error) => void;
  private settledFlag = false;
  private retried = false;
  private req: http.ClientRequest | null = null;
  private socket: net.Socket | null = null;
  private written = false;
  private gotResponse = false;
  private response: http.IncomingMessage | null = null;
  /** Held back from the agent's kept-alive socket until the loop has read it (see `dispatch`). */
  private holding = false;
  /** The upload's write failed; its socket is read on for an answer already sent (see `uploadWritten`). */
  private writeError: Error | null = null;
  private readonly phaseTimer = new PhaseTimer(this);

  constructor(
    readonly owner: ExchangeOwner,
    private readonly method: string,
    private readonly path: string,
    private readonly headers: Record<string, string | string[]>,
    private readonly body: Buffer | string | null,
    private readonly retryable: boolean,
    private readonly closeAfter: boolean,
    private readonly signal: AbortSignal | null,
    private readonly timeoutMs: number,
  ) {
    this.promise = new Promise<Response>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get info(): RequestInfo {
    return { id: this.id, origin: this.owner.origin, method: this.method, path: this.path };
  }

  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  get settled(): boolean {
    return this.settledFlag;
  }

  /** Starts the whole-request timer and listens to the signal. */
  start(): void {
    arm(this, this.timeoutMs);
    this.signal?.addEventListener('abort', this);
  }

  /**
   * Sends the request through `slot`'s agent. One that cannot be sent again if its
   * socket turns out dead (not idempotent, or resent already) waits first when the agent
   * holds a kept-alive socket, for the reason and the two turns given at `Connection.defer`:
   * the agent hands out its free socket synchronously, so the request itself is held.
   */
  dispatch(slot: NodeSlot): void {
    this.slot = slot;
    if ((this.retried || !this.retryable) && hasParked(slot.agent)) {
      this.holding = true;
      setImmediate(holdOneTurn, this);
      return;
    }
    this.send(slot);
  }

  /** The loop has polled since `dispatch` held the request. */
  sendHeld(): void {
    const slot = this.slot;
    if (!this.holding || this.settledFlag || slot === null) return;
    this.holding = false;
    // A free socket whose FIN or reset that poll read is destroyed by now, and the agent
    // skips destroyed sockets: it hands out a sound one or dials.
    this.send(slot);
  }

  private send(slot: NodeSlot): void {
    this.written = false;
    this.writeError = null;
    this.gotResponse = false;
    this.response = null;
    const options: http.RequestOptions = { ...this.owner.requestOptions, agent: slot.agent, method: this.method, path: this.path, headers: this.headers };
    const req = (this.owner.secure ? https.request : http.request)(options);
    this.req = req;
    // A caller's `connection: close` must close the socket after the response; node
    // would otherwise keep it in the agent.
    if (this.closeAfter) req.shouldKeepAlive = false;
    // node:http caps the header count by default (and the cap differs between Node
    // versions); Pool bounds headers by maxHeaderSize alone, and so does NodePool.
    req.maxHeadersCount = 0;
    req.on('socket', (socket: net.Socket) => {
      this.socket = socket;
      const info = slot.info(socket);
      if (info !== undefined) {
        info.uses++;
        if (info.phase === 'open') info.set(null, 0); // no longer idle (a connecting socket keeps its dial/TLS timer)
      }
      if (requestStartChannel.hasSubscribers) {
        // As in Pool: published when the request meets a connected socket.
        const publish = (): void => void requestStartChannel.publish({ request: this.info, socketId: slot.id });
        if (info !== undefined && info.phase !== 'open') socket.once(this.owner.secure ? 'secureConnect' : 'connect', publish);
        else publish();
      }
      // node:http writes the request right after this event; an empty write queued behind
      // it reports, before Node acts on it, whether that write failed.
      if (this.body !== null) process.nextTick(() => void (this.socket === socket && socket.writable && socket.write(EMPTY, (err?: Error | null) => this.uploadWritten(socket, err))));
    });
    req.on('finish', () => {
      this.written = true;
      if (!this.gotResponse) {
        this.phaseTimer.body = false;
        arm(this.phaseTimer, this.owner.responseHeaderTimeout);
      }
    });
    req.on('response', (res: http.IncomingMessage) => this.onResponse(req, res));
    req.on('upgrade', (_res: http.IncomingMessage, socket: net.Socket) => {
      socket.destroy();
      this.fail(new UpgradeError({ phase: 'headers' }));
    });
    req.on('error', (err: Error) => this.onError(req, err));
    req.end(this.body ?? undefined);
  }

  /**
   * The upload's write finished or failed. A server that answers an upload before reading
   * it (401, 413, and close) makes the write fail (EPIPE, ECONNRESET) while its complete
   * answer may already sit in the kernel, readable still. Node would destroy the socket
   * (autoDestroy), and node:http too on the socket's 'error', dropping that answer; so
   * the socket is kept and its 'error' not emitted: node:http reads on, and delivers the
   * answer, or fails at EOF or reset (with the write error as cause, see onError). This
   * runs before Node acts on the error (buffered writes' callbacks come first).
   */
  private uploadWritten(socket: net.Socket, err: Error | null | undefined): void {
    if (err == null || this.settledFlag || this.socket !== socket || socket.destroyed || (err as NodeJS.ErrnoException).syscall === undefined) return;
    this.writeError = err;
    const states = socket as unknown as StreamStates;
    states._writableState.autoDestroy = false;
    states._readableState.autoDestroy = false;
    states._writableState.errorEmitted = true;
    // Node marked the read side failed too (which drops what is still to be read) and
    // marks it again right after this callback if cleared now.
    process.nextTick(readOn, states);
  }

  /** The whole-request deadline passed. */
  expire(): void {
    this.cancel(new RequestTimeoutError(this.timeoutMs, {}));
  }

  /** The signal fired. */
  handleEvent(): void {
    this.cancel(new AbortError({ cause: this.signal?.reason }));
  }

  /** Fails the exchange with `err` and destroys its request (and so its socket). */
  abortRequest(err: HttpClientPoolError): void {
    const req = this.req;
    const socket = this.socket;
    this.fail(this.decorate(err));
    req?.destroy();
    // Newer Node may already have parked a socket whose response it finished reading;
    // the socket of a request given up on is dropped, as in Pool.
    socket?.destroy();
  }

  fail(err: HttpClientPoolError): void {
    if (this.settledFlag) return;
    this.decorate(err);
    const slot = this.slot;
    this.settle();
    if (slot !== null && !(err instanceof AbortError || err instanceof RequestTimeoutError)) slot.errors++;
    if (requestErrorChannel.hasSubscribers) requestErrorChannel.publish({ request: this.info, error: err });
    this.reject(err);
  }

  private cancel(err: HttpClientPoolError): void {
    if (this.settledFlag) return;
    if (this.slot === null) {
      err.phase = 'queue';
      this.owner.unqueue(this);
      this.fail(err);
    } else {
      err.phase = this.phase();
      this.abortRequest(err);
    }
  }

  private onResponse(req: http.ClientRequest, res: http.IncomingMessage): void {
    this.gotResponse = true;
    disarm(this.phaseTimer);
    if (this.settledFlag) return void res.resume();
    this.response = res;
    if (responseHeadersChannel.hasSubscribers) {
      responseHeadersChannel.publish({ request: this.info, socketId: this.slot?.id, statusCode: res.statusCode, rawHeaders: res.rawHeaders });
    }
    if (res.statusCode! < 100) return this.abortRequest(new ParseError('HPE_INVALID_STATUS', `invalid status code ${res.statusCode}`, { phase: 'headers' }));
    // node:http passes a 101 without an Upgrade header on as a response; it is still a protocol switch.
    if (res.statusCode === 101) return this.abortRequest(new UpgradeError({ phase: 'headers' }));
    const info = this.socket === null ? undefined : this.slot?.info(this.socket);
    if (info !== undefined) {
      const ka = res.headers['keep-alive'];
      info.hint = typeof ka === 'string' ? keepAliveTimeout(ka) : -1;
      // A hint too short to reuse the socket safely: node must close it, not park it.
      if (idleTime(this.owner.idleConnTimeout, info.hint) < 0) req.shouldKeepAlive = false;
      // node decides keep-alive before it knows a HEAD answer has no body; without a length
      // such an answer looks close-delimited to it, but it ends at its blank line.
      else if (this.method === 'HEAD' && !this.closeAfter && !req.shouldKeepAlive && persistent(res)) req.shouldKeepAlive = true;
    }
    const max = this.owner.maxResponseSize;
    const declared = Number(res.headers['content-length']);
    const bodiless = this.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
    if (!bodiless && declared > max) return this.abortRequest(new ResponseTooLargeError(max, {}));
    const chunks: Buffer[] = [];
    let size = 0;
    // The body timer runs from the end of the head, and again from every read.
    const timer = this.phaseTimer;
    const bodyTimeout = this.owner.bodyTimeout;
    timer.body = true;
    if (!res.complete) arm(timer, bodyTimeout);
    res.on('data', (chunk: Buffer) => {
      arm(timer, bodyTimeout);
      size += chunk.length;
      if (size > max) this.abortRequest(new ResponseTooLargeError(max, {}));
      else chunks.push(chunk);
    });
    res.on('end', () => {
      disarm(timer);
      if (!res.complete) return; // 'aborted' / 'error' reports it
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const response = new Response(res.statusCode!, res.statusMessage ?? '', res.httpVersion, res.rawHeaders, res.rawTrailers, body);
      const slot = this.slot;
      if (!this.settle()) return;
      if (slot !== null) slot.requests++;
      // Answered before the body was all sent: the socket cannot carry another request.
      if (!req.writableFinished) req.destroy();
      if (this.writeError !== null) this.socket?.destroy();
      if (requestEndChannel.hasSubscribers) requestEndChannel.publish({ request: this.info, statusCode: response.statusCode, bodyLength: response.body.length });
      this.resolve(response);
    });
    res.on('error', (err: Error) => this.onError(req, err));
    res.on('aborted', () => {
      // node drops llhttp's verdict on EOF; give the same cause as Pool when the server ended the stream.
      const cause = this.socket?.readableEnded === true ? new ParseError('HPE_INVALID_EOF_STATE', 'Invalid EOF state', { phase: 'body' }) : undefined;
      this.fail(new SocketError('the connection closed before the response was complete', { phase: 'body', cause }));
    });
  }

  private onError(req: http.ClientRequest, err: Error): void {
    if (this.settledFlag || req !== this.req) return;
    // A complete response stands whatever the socket does next (bytes after it, a failed
    // write, a reset): node reports that on the request before the response's 'end'.
    if (this.response?.complete === true) return;
    disarm(this.phaseTimer);
    const info = this.socket === null ? undefined : this.slot?.info(this.socket);
    const ctx = { cause: err };
    // Dial and TLS failures (timeouts included) move the request to another slot, as in Pool.
    if (info !== undefined && info.phase === 'dial') {
      return this.moveOrFail(err instanceof HttpClientPoolError ? err : new ConnectError(`connect failed: ${err.message}`, ctx));
    }
    if (info !== undefined && info.phase === 'tls') {
      return this.moveOrFail(err instanceof HttpClientPoolError ? err : new TLSError(`TLS handshake failed: ${err.message}`, ctx));
    }
    if (err instanceof HttpClientPoolError) return this.fail(err);
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('HPE_')) {
      return this.fail(new ParseError(code, (err as { reason?: string }).reason ?? err.message, { ...ctx, phase: this.gotResponse ? 'body' : 'headers' }));
    }
    // Reset or EOF before any response byte on a reused socket: resend once if safe.
    const reused = info === undefined ? req.reusedSocket : info.uses > 1;
    if (!this.gotResponse && !this.retried && reused && (this.retryable || !this.written)) {
      this.retried = true;
      const slot = this.slot!;
      this.dispatch(slot);
      return;
    }
    // After a failed upload node:http reports only the EOF or reset that followed: the write's error is the news.
    const cause = this.writeError ?? err;
    this.fail(new SocketError(`the connection failed before the response was complete: ${cause.message}`, { cause, phase: this.gotResponse ? 'body' : 'headers' }));
  }

  /** A dial failure: nothing was sent, so the origin may move the exchange to another slot. */
  private moveOrFail(err: HttpClientPoolError): void {
    const slot = this.slot!;
    this.decorate(err);
    if (connectErrorChannel.hasSubscribers) connectErrorChannel.publish({ origin: this.owner.origin, socketId: slot.id, error: err });
    this.slot = null;
    this.req = null;
    this.owner.dialFailed(this, err);
    this.owner.released(slot);
  }

  private phase(): Phase {
    if (this.holding) return 'write';
    const info = this.socket === null ? undefined : this.slot?.info(this.socket);
    if (info === undefined) return this.socket === null ? 'dial' : this.gotResponse ? 'body' : 'headers';
    if (info.phase !== 'open') return info.phase;
    return !this.written ? 'write' : this.gotResponse ? 'body' : 'headers';
  }

  private decorate(err: HttpClientPoolError): HttpClientPoolError {
    err.origin ??= this.owner.origin;
    if (this.slot !== null) err.socketId ??= this.slot.id;
    return err;
  }

  private settle(): boolean {
    if (this.settledFlag) return false;
    this.settledFlag = true;
    disarm(this);
    disarm(this.phaseTimer);
    this.signal?.removeEventListener('abort', this);
    const slot = this.slot;
    this.slot = null;
    this.req = null;
    this.owner.settled(this);
    if (slot !== null) this.owner.released(slot);
    return true;
  }
}

const EMPTY = Buffer.alloc(0);

/** The fields of Node's stream states that `uploadWritten` sets (present on Node 20-24). */
interface StreamStates {
  _writableState: { autoDestroy: boolean; errorEmitted: boolean };
  _readableState: { autoDestroy: boolean; errored: Error | null };
}

function readOn(states: StreamStates): void {
  states._readableState.errored = null;
}

/** The agent keeps a free socket (one that served a request). */
function hasParked(agent: http.Agent): boolean {
  for (const _ in agent.freeSockets) return true;
  return false;
}

function holdOneTurn(ex: NodeExchange): void {
  setImmediate(holdDone, ex);
}

function holdDone(ex: NodeExchange): void {
  ex.sendHeld();
}

/** The response allows the connection to be reused, by its version and `Connection` header. */
function persistent(res: http.IncomingMessage): boolean {
  const connection = res.headers.connection;
  return connectionAllowsReuse(res.httpVersionMajor, res.httpVersionMinor, connection === undefined ? '' : String(connection));
}
