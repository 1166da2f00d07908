// One request sent through node:http: its ClientRequest, its phase timer (response
// head, then the gap between body reads; dial, TLS and idle belong to the socket), and
// the mapping of node's errors onto this library's classes. The request's life (its
// promise, deadline and signal) is the shared core's `Request`; this is only how a
// NodePool slot carries it.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { arm, disarm, type Timed } from '../conn/timers.js';
import type { Request } from '../pool/request.js';
import {
  WriteTimeoutError,
  BodyTimeoutError,
  ConnectError,
  HeadersTimeoutError,
  HttpClientPoolError,
  ParseError,
  ResponseTooLargeError,
  SocketError,
  TLSError,
  UpgradeError,
  RequestBodyError,
  type Phase,
} from '../errors.js';
import { Upload, type UploadSink } from '../conn/upload.js';
import { Response } from '../response.js';
import { connectionAllowsReuse, idleTime, keepAliveTimeout } from '../keep-alive.js';
import { requestStartChannel, responseHeadersChannel } from '../diagnostics.js';
import type { SocketInfo } from './agent.js';
import type { Config } from '../options.js';
import { sentOf, WRITE_SLICE } from '../conn/driver.js';

/**
 * Headers as node:http takes them flat, [name, value, name, value...]: written as they
 * are, with no setHeader() per header. A list value is one line per item, as Pool writes it.
 */
export type FlatHeaders = string[];

/** What an exchange needs of the slot carrying it. */
export interface ExchangeSlot {
  readonly id: number;
  readonly agent: http.Agent;
  readonly secure: boolean;
  readonly requestOptions: http.RequestOptions;
  /** Before every path on the request line ('' unless requests go to a proxy in absolute form). */
  readonly pathPrefix: string;
  /** The pool's options: its timeouts and limits. */
  readonly config: Config;
  info(socket: net.Socket): SocketInfo | undefined;
  /** Its peer closes after each response without saying so: requests go with `connection: close`. */
  readonly closesEach: boolean;
  /** It has an open, undestroyed socket that carried a request before. */
  reusedSocket(): boolean;
  /** The exchange is over on this slot: answered (`res`), failed (`err`), or its dial failed (`dialErr`: it may move). */
  finished(ex: NodeExchange, res: Response | null, err: HttpClientPoolError | null, dialErr: boolean): void;
  /** The connection switched protocols: `socket` left node:http and is the request's. */
  upgraded(ex: NodeExchange, statusCode: number, rawHeaders: string[], socket: net.Socket): void;
}

/**
 * The phase deadline of an exchange: the response head, then the gap between body
 * reads (the request itself holds the whole-request one).
 */
class PhaseTimer implements Timed {
  deadline = 0;
  clockIndex = -1;
  /** Which phase it times: set before each arm. */
  body = false;
  /** It times the wait for a 100 Continue (before the body is sent), not a response phase. */
  continue = false;
  /** It times the writing of the request: `sentAtArm` is what the kernel had taken when armed. */
  write = false;
  sentAtArm = 0;
  constructor(private readonly ex: NodeExchange) {}
  expire(): void {
    const slot = this.ex.slot;
    if (slot === null) return;
    if (this.continue) return this.ex.goOn();
    if (this.write) return this.ex.writeDue();
    this.ex.giveUp(this.body ? new BodyTimeoutError(ownOr(this.ex.request.bodyTimeout, slot.config.bodyTimeout), {}) : new HeadersTimeoutError(ownOr(this.ex.request.headersTimeout, slot.config.responseHeaderTimeout), {}));
  }
}

export class NodeExchange implements UploadSink {
  slot: ExchangeSlot | null = null;
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
  /** The streamed body being written into `req`; null when none. */
  private upload: Upload | null = null;
  /** Some of the streamed body was read: the request can never be sent again. */
  private pulled = false;

  constructor(
    readonly request: Request,
    /** Headers for node:http, in the order and form the raw pool writes them; shared between requests, never changed. */
    private readonly headers: FlatHeaders,
    private readonly body: Buffer | string | null,
  ) {}

  /**
   * Sends the request through `slot`'s agent. One that cannot be sent again if its
   * socket turns out dead (not idempotent, or resent already) waits first when the agent
   * holds a kept-alive socket, for the reason and the two turns given at the raw slot's
   * `defer` and `afterPoll`: the agent hands out its free socket synchronously, so the
   * request itself is held.
   */
  dispatch(slot: ExchangeSlot): void {
    this.slot = slot;
    const request = this.request;
    // Not only a parked socket: node parks one a tick after its response ended and then
    // hands it at once to a request waiting in the agent, before a FIN that followed the
    // response is read (tinyproxy 1.11 closes after each response without saying so).
    if ((request.retried || !request.retryable) && slot.reusedSocket()) {
      this.holding = true;
      setImmediate(holdOneTurn, this);
      return;
    }
    this.send(slot);
  }

  /** The loop has polled since `dispatch` held the request. */
  sendHeld(): void {
    const slot = this.slot;
    if (!this.holding || slot === null) return;
    this.holding = false;
    // A free socket whose FIN or reset that poll read is destroyed by now, and the agent
    // skips destroyed sockets: it hands out a sound one or dials.
    this.send(slot);
  }

  private send(slot: ExchangeSlot): void {
    this.written = false;
    this.writeError = null;
    this.gotResponse = false;
    this.response = null;
    this.socket = null;
    const request = this.request;
    const o = slot.requestOptions;
    // One literal shape, no spread: node:http copies its options twice more itself.
    const options: http.RequestOptions = {
      host: o.host,
      port: o.port,
      maxHeaderSize: o.maxHeaderSize,
      setHost: false,
      agent: slot.agent,
      method: request.method,
      path: slot.pathPrefix + request.path,
      // Flat headers are written when node makes the request, so a `connection: close`
      // this slot learned it needs goes in them (shouldKeepAlive would come too late).
      headers: slot.closesEach && !request.closeAfter ? this.headers.concat(CONNECTION_CLOSE) : this.headers,
    };
    const req = (slot.secure ? https.request : http.request)(options);
    this.req = req;
    (req as Carried)[kExchange] = this;
    // A caller's `connection: close` must close the socket after the response; node
    // would otherwise keep it in the agent.
    if (request.closeAfter || slot.closesEach) req.shouldKeepAlive = false;
    // node:http caps the header count by default (and the cap differs between Node
    // versions); Pool bounds headers by maxHeaderSize alone, and so does NodePool.
    req.maxHeadersCount = 0;
    // Shared listeners that find the exchange on the request: no closure per request.
    req.on('socket', onReqSocket);
    req.on('finish', onReqFinish);
    req.on('response', onReqResponse);
    req.on('upgrade', onReqUpgrade);
    req.on('connect', onReqConnect);
    req.on('error', onReqError);
    if (request.streamed === null) return void endWith(req, this.body);
    req.on('drain', onReqDrain);
  }

  /** node:http gave `req` its socket. */
  socketGiven(req: http.ClientRequest, socket: net.Socket): void {
    const slot = this.slot;
    if (slot === null || req !== this.req) return;
    const request = this.request;
    this.socket = socket;
    const info = slot.info(socket);
    if (info !== undefined) {
      info.uses++;
      if (info.phase === 'open') info.set(null, 0); // no longer idle (a connecting socket keeps its dial/TLS timer)
    }
    const connecting = info !== undefined && info.phase !== 'open';
    const ready = slot.secure ? 'secureConnect' : 'connect';
    if (requestStartChannel.hasSubscribers) {
      // As in Pool: published when the request meets a connected socket.
      const publish = (): void => void requestStartChannel.publish({ request: request.info, socketId: slot.id });
      if (connecting) socket.once(ready, publish);
      else publish();
    }
    // The write timer runs from when the socket is usable until node:http has written everything.
    if (connecting) socket.once(ready, () => this.startWriteTimer());
    else this.startWriteTimer();
    if (request.streamed !== null) {
      // Read the body only once the socket is usable: a dial that fails leaves it unread, and the request may move.
      if (connecting) socket.once(ready, () => this.startUpload(req, info));
      else this.startUpload(req, info);
    }
    // node:http writes the request right after this event; an empty write queued behind
    // it reports, before Node acts on it, whether that write failed.
    if (this.body !== null || request.streamed !== null) process.nextTick(() => void (this.socket === socket && socket.writable && socket.write(EMPTY, (err?: Error | null) => this.uploadWritten(socket, err))));
  }

  /** node:http has handed the whole request to the socket: the response head's timer starts. */
  requestFinished(req: http.ClientRequest): void {
    const slot = this.slot;
    if (slot === null || req !== this.req) return;
    this.written = true;
    if (!this.gotResponse) {
      this.phaseTimer.body = false;
      this.phaseTimer.continue = false;
      this.phaseTimer.write = false;
      arm(this.phaseTimer, ownOr(this.request.headersTimeout, slot.config.responseHeaderTimeout));
    }
  }

  /** node:http handed the socket over (kind 1: a 101 to an upgrade, 2: an answer to CONNECT). */
  upgraded(req: http.ClientRequest, res: http.IncomingMessage, socket: net.Socket, head: Buffer, kind: number): void {
    const slot = this.slot;
    if (req !== this.req || slot === null) return void socket.destroy();
    if (this.request.upgrade !== kind) {
      socket.destroy();
      return this.fail(new UpgradeError({ phase: 'headers' }));
    }
    this.detach();
    if (head.length !== 0) socket.unshift(head);
    slot.upgraded(this, res.statusCode!, res.rawHeaders, socket);
  }

  drained(req: http.ClientRequest): void {
    if (req === this.req) this.upload?.drained();
  }

  /** Pumps the streamed body into `req`, which has a usable socket; chunked framing is node:http's. */
  private startUpload(req: http.ClientRequest, info: SocketInfo | undefined): void {
    if (req !== this.req || this.upload !== null) return;
    const streamed = this.request.streamed!;
    if (streamed.length < 0 && info?.http10 === true) {
      // node:http has written nothing yet: it writes the head with the first piece.
      return this.giveUp(new RequestBodyError('the server speaks HTTP/1.0, which cannot take a chunked request body: give it a content-length', {}));
    }
    this.pulled = true;
    const up = new Upload(streamed.source, streamed.length, this);
    this.upload = up;
    if (!streamed.expectContinue) return up.start();
    // The head alone now; the body on the 100, or when the wait is over.
    req.flushHeaders();
    req.once('continue', () => this.goOn());
    const ms = this.slot!.config.expectContinueTimeout;
    if (ms > 0) {
      this.phaseTimer.continue = true;
      arm(this.phaseTimer, ms);
    }
  }

  /** A 100 Continue came, or the wait for it is over: the held-back body goes. */
  goOn(): void {
    const up = this.upload;
    if (up === null || this.gotResponse) return;
    if (this.phaseTimer.continue) {
      this.phaseTimer.continue = false;
      disarm(this.phaseTimer);
    }
    up.start();
    this.startWriteTimer();
  }

  /**
   * While the request is being written: the write timer, which on each expiry checks
   * that the kernel took bytes meanwhile (a server that stopped reading fails it).
   */
  private startWriteTimer(): void {
    const s = this.socket;
    const slot = this.slot;
    const t = this.phaseTimer;
    if (s === null || slot === null || this.written || this.gotResponse || t.continue) return;
    t.body = false;
    t.write = true;
    t.sentAtArm = sentOf(s);
    arm(t, slot.config.writeTimeout);
  }

  /** The write timer is due: bytes left since it was armed, or the server stopped reading. */
  writeDue(): void {
    const s = this.socket;
    const slot = this.slot;
    if (s === null || slot === null) return;
    const t = this.phaseTimer;
    const sent = sentOf(s);
    if (sent === t.sentAtArm) return this.giveUp(new WriteTimeoutError(slot.config.writeTimeout, {}));
    t.sentAtArm = sent;
    arm(t, slot.config.writeTimeout);
  }

  uploadWrite(chunk: Buffer): boolean {
    return this.req!.write(chunk);
  }

  uploadEnd(): void {
    this.upload = null;
    this.req!.end();
  }

  uploadFailed(err: RequestBodyError): void {
    this.upload = null;
    this.giveUp(err);
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
    if (err == null || this.slot === null || this.socket !== socket || socket.destroyed || (err as NodeJS.ErrnoException).syscall === undefined) return;
    this.writeError = err;
    const states = socket as unknown as StreamStates;
    states._writableState.autoDestroy = false;
    states._readableState.autoDestroy = false;
    states._writableState.errorEmitted = true;
    // Node marked the read side failed too (which drops what is still to be read) and
    // marks it again right after this callback if cleared now.
    process.nextTick(readOn, states);
  }

  /** Body bytes of the response, once it is complete. */
  bodyLength = 0;

  /** The caller paused (or resumed) reading the response: node stops reading its socket, and the body timer stops. */
  pause(paused: boolean): void {
    const res = this.response;
    if (res === null || this.slot === null) return; // paused before the response: applied when it comes
    if (paused) {
      res.pause();
      disarm(this.phaseTimer);
    } else {
      res.resume();
      if (!res.complete) arm(this.phaseTimer, ownOr(this.request.bodyTimeout, this.slot.config.bodyTimeout));
    }
  }

  /** The phase this exchange is in, for errors raised from outside (abort, whole-request timeout). */
  get phase(): Phase {
    if (this.holding) return 'write';
    const info = this.socket === null ? undefined : this.slot?.info(this.socket);
    if (info === undefined) return this.socket === null ? 'dial' : this.gotResponse ? 'body' : 'headers';
    if (info.phase !== 'open') return info.phase;
    return !this.written ? 'write' : this.gotResponse ? 'body' : 'headers';
  }

  /** The request was cancelled: its node:http request (and so its socket) is dropped; nothing is reported. */
  drop(): void {
    const req = this.req;
    const socket = this.socket;
    this.detach();
    req?.destroy();
    // Newer Node may already have parked a socket whose response it finished reading;
    // the socket of a request given up on is dropped, as in Pool.
    socket?.destroy();
  }

  /** Fails the exchange with `err` and drops its node:http request (and so its socket). */
  giveUp(err: HttpClientPoolError): void {
    const req = this.req;
    const socket = this.socket;
    this.fail(err);
    req?.destroy();
    socket?.destroy();
  }

  private fail(err: HttpClientPoolError): void {
    const slot = this.slot;
    if (slot === null) return;
    this.detach();
    slot.finished(this, null, err, false);
  }

  /** Stops listening to this attempt: later events of its request are not news. */
  private detach(): void {
    this.holding = false;
    this.phaseTimer.continue = false;
    const up = this.upload;
    if (up !== null) {
      // Answered early, failed or given up on: the rest of the body is not read.
      this.upload = null;
      up.stop();
    }
    disarm(this.phaseTimer);
    this.slot = null;
    this.req = null;
  }

  onResponse(req: http.ClientRequest, res: http.IncomingMessage): void {
    this.gotResponse = true;
    this.phaseTimer.continue = false;
    this.phaseTimer.write = false;
    disarm(this.phaseTimer);
    const slot = this.slot;
    if (slot === null || req !== this.req) return void res.resume();
    this.response = res;
    const request = this.request;
    if (responseHeadersChannel.hasSubscribers) {
      responseHeadersChannel.publish({ request: request.info, socketId: slot.id, statusCode: res.statusCode, rawHeaders: res.rawHeaders });
      if (this.slot === null) return void res.resume(); // a subscriber destroyed the pool
    }
    if (res.statusCode! < 100) return this.giveUp(new ParseError('HPE_INVALID_STATUS', `invalid status code ${res.statusCode}`, { phase: 'headers' }));
    // node:http passes a 101 without an Upgrade header on as a response; it is still a protocol switch.
    if (res.statusCode === 101) return this.giveUp(new UpgradeError({ phase: 'headers' }));
    const info = this.socket === null ? undefined : slot.info(this.socket);
    if (info !== undefined) {
      info.http10 = res.httpVersion === '1.0';
      const ka = res.headers['keep-alive'];
      info.hint = typeof ka === 'string' ? keepAliveTimeout(ka) : -1;
      // A hint too short to reuse the socket safely: node must close it, not park it.
      if (idleTime(slot.config.idleConnTimeout, info.hint) < 0) req.shouldKeepAlive = false;
      // node decides keep-alive before it knows a HEAD answer has no body; without a length
      // such an answer looks close-delimited to it, but it ends at its blank line.
      else if (request.bodiless && !request.closeAfter && !req.shouldKeepAlive && persistent(res)) req.shouldKeepAlive = true;
    }
    const max = slot.config.maxResponseSize;
    const declared = Number(res.headers['content-length']);
    const bodiless = request.bodiless || res.statusCode === 204 || res.statusCode === 304;
    if (!bodiless && declared > max) return this.giveUp(new ResponseTooLargeError(max, {}));
    this.chunks = null;
    this.first = EMPTY;
    this.whole = null;
    this.declared = bodiless || !(declared >= 0) ? -1 : declared;
    this.bodyLength = 0;
    // The body timer runs from the end of the head, and again from every read (not while the caller has paused).
    const timer = this.phaseTimer;
    timer.body = true;
    if (request.streams) {
      request.responseStart(res.statusCode!, res.rawHeaders, res.statusMessage ?? '');
      if (req !== this.req) return void res.resume(); // the handler aborted it
      if (request.paused) res.pause();
    }
    if (!res.complete && !request.paused) arm(timer, ownOr(request.bodyTimeout, slot.config.bodyTimeout));
    (res as Carried)[kExchange] = this;
    res.on('data', onResData);
    res.on('end', onResEnd);
    res.on('error', onResError);
    res.on('aborted', onResAborted);
  }

  /** The first body piece, and the rest once there is more than one (most bodies come in one). */
  private first: Buffer = EMPTY;
  private chunks: Buffer[] | null = null;
  /**
   * A Content-Length body that comes in pieces: one buffer of its length, each piece copied
   * in as it comes. The pieces then die young instead of being held to the end for a concat
   * (held, they outlive scavenges and only mark-compacts free them). The same one copy.
   * Up to Pool's limit for trusting a declared length (larger ones are gathered).
   */
  private whole: Buffer | null = null;
  /** The response's Content-Length, or -1 (none, or no body). */
  private declared = -1;

  /** A piece of the response body. */
  bodyData(res: http.IncomingMessage, chunk: Buffer): void {
    const req = this.req;
    const slot = this.slot;
    if (slot === null || req === null || res !== this.response) return;
    const size = (this.bodyLength += chunk.length);
    const max = slot.config.maxResponseSize;
    if (size > max) return this.giveUp(new ResponseTooLargeError(max, {}));
    const request = this.request;
    if (request.streams) request.responseData(chunk); // a fresh Buffer of node's, not reused
    else if (this.whole !== null && size <= this.whole.length) chunk.copy(this.whole, size - chunk.length);
    else if (this.first === EMPTY && (size === this.declared || this.declared < 0)) this.first = chunk;
    else if (this.first === EMPTY && size < this.declared && this.declared <= PREALLOCATE_LIMIT) {
      this.whole = Buffer.allocUnsafe(this.declared);
      chunk.copy(this.whole, 0);
    } else (this.chunks ??= this.whole === null ? [this.first] : [this.whole.subarray(0, size - chunk.length)]).push(chunk);
    if (req === this.req && !request.paused) arm(this.phaseTimer, ownOr(request.bodyTimeout, slot.config.bodyTimeout));
  }

  /** The response body ended (complete, or cut short: then 'aborted' / 'error' reports it). */
  bodyEnd(res: http.IncomingMessage): void {
    const req = this.req;
    const slot = this.slot;
    if (slot === null || req === null || res !== this.response) return;
    disarm(this.phaseTimer);
    if (!res.complete) return; // 'aborted' / 'error' reports it
    const chunks = this.chunks;
    const whole = this.whole;
    const body = this.request.streams ? EMPTY : chunks !== null ? Buffer.concat(chunks, this.bodyLength) : whole === null ? this.first : whole.length === this.bodyLength ? whole : whole.subarray(0, this.bodyLength);
    this.first = EMPTY;
    this.chunks = null;
    this.whole = null;
    const response = new Response(res.statusCode!, res.statusMessage ?? '', res.httpVersion, res.rawHeaders, res.rawTrailers, body);
    this.detach();
    // Answered before the body was all sent: the socket cannot carry another request.
    if (!req.writableFinished) req.destroy();
    if (this.writeError !== null) this.socket?.destroy();
    slot.finished(this, response, null, false);
  }

  bodyError(res: http.IncomingMessage, err: Error): void {
    const req = this.req;
    if (req !== null && res === this.response) this.onError(req, err);
  }

  bodyAborted(res: http.IncomingMessage): void {
    if (this.req === null || res !== this.response) return;
    // node drops llhttp's verdict on EOF; give the same cause as Pool when the server ended the stream.
    const cause = this.socket?.readableEnded === true ? new ParseError('HPE_INVALID_EOF_STATE', 'Invalid EOF state', { phase: 'body' }) : undefined;
    this.fail(new SocketError('the connection closed before the response was complete', { phase: 'body', cause }));
  }

  onError(req: http.ClientRequest, err: Error): void {
    const slot = this.slot;
    if (slot === null || req !== this.req) return;
    // A complete response stands whatever the socket does next (bytes after it, a failed
    // write, a reset): node reports that on the request before the response's 'end'.
    if (this.response?.complete === true) return;
    disarm(this.phaseTimer);
    const info = this.socket === null ? undefined : slot.info(this.socket);
    const ctx = { cause: err };
    // Dial and TLS failures (timeouts included) move the request to another slot, as in Pool.
    if (info !== undefined && info.phase === 'dial') {
      return this.dialFailed(err instanceof HttpClientPoolError ? err : new ConnectError(`connect failed: ${err.message}`, ctx));
    }
    if (info !== undefined && info.phase === 'tls') {
      return this.dialFailed(err instanceof HttpClientPoolError ? err : new TLSError(`TLS handshake failed: ${err.message}`, ctx));
    }
    // A proxy's tunnel failed before the agent had a socket to give (agent.ts): a dial failure too.
    if (this.socket === null && err instanceof HttpClientPoolError && (err.phase === 'dial' || err.phase === 'tls')) return this.dialFailed(err);
    if (err instanceof HttpClientPoolError) return this.fail(err);
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('HPE_')) {
      return this.fail(new ParseError(code, (err as { reason?: string }).reason ?? err.message, { ...ctx, phase: this.gotResponse ? 'body' : 'headers' }));
    }
    // Reset or EOF before any response byte on a reused socket: resend once if safe.
    const request = this.request;
    request.reused = info === undefined ? req.reusedSocket : info.uses > 1;
    request.written = this.written || this.pulled;
    if (request.mayResend(this.gotResponse)) {
      request.retried = true;
      this.dispatch(slot);
      return;
    }
    // After a failed upload node:http reports only the EOF or reset that followed: the write's error is the news.
    const cause = this.writeError ?? err;
    this.fail(new SocketError(`the connection failed before the response was complete: ${cause.message}`, { cause, phase: this.gotResponse ? 'body' : 'headers' }));
  }

  /** A dial failure: nothing was sent, so the origin may move the request to another slot. */
  private dialFailed(err: HttpClientPoolError): void {
    const slot = this.slot!;
    this.detach();
    slot.finished(this, null, err, true);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A declared Content-Length up to this is trusted for one buffer at the body's first piece,
 * as Pool does (parser/response.ts, not imported here: NodePool must load without the parser).
 */
const PREALLOCATE_LIMIT = 64 * 1024 * 1024;

/** A node:http request or response of an exchange, which its shared listeners find it by. */
const kExchange = Symbol('exchange');
type Carried = { [kExchange]?: NodeExchange };

function exchangeOn(emitter: unknown): NodeExchange {
  return (emitter as Carried)[kExchange]!;
}

// The listeners of every exchange's request and response (`this` is the emitter).
function onReqSocket(this: http.ClientRequest, socket: net.Socket): void {
  exchangeOn(this).socketGiven(this, socket);
}
function onReqFinish(this: http.ClientRequest): void {
  exchangeOn(this).requestFinished(this);
}
function onReqResponse(this: http.ClientRequest, res: http.IncomingMessage): void {
  exchangeOn(this).onResponse(this, res);
}
function onReqUpgrade(this: http.ClientRequest, res: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
  exchangeOn(this).upgraded(this, res, socket, head, 1);
}
function onReqConnect(this: http.ClientRequest, res: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
  exchangeOn(this).upgraded(this, res, socket, head, 2);
}
function onReqError(this: http.ClientRequest, err: Error): void {
  exchangeOn(this).onError(this, err);
}
function onReqDrain(this: http.ClientRequest): void {
  exchangeOn(this).drained(this);
}
function onResData(this: http.IncomingMessage, chunk: Buffer): void {
  exchangeOn(this).bodyData(this, chunk);
}
function onResEnd(this: http.IncomingMessage): void {
  exchangeOn(this).bodyEnd(this);
}
function onResError(this: http.IncomingMessage, err: Error): void {
  exchangeOn(this).bodyError(this, err);
}
function onResAborted(this: http.IncomingMessage): void {
  exchangeOn(this).bodyAborted(this);
}


/** The fields of Node's stream states that `uploadWritten` sets (present on Node 20-26). */
interface StreamStates {
  _writableState: { autoDestroy: boolean; errorEmitted: boolean };
  _readableState: { autoDestroy: boolean; errored: Error | null };
}

function readOn(states: StreamStates): void {
  states._readableState.errored = null;
}


function holdOneTurn(ex: NodeExchange): void {
  setImmediate(holdDone, ex);
}

function holdDone(ex: NodeExchange): void {
  ex.sendHeld();
}

/** Ends `req` with `body`: a large one in slices (views), so that the write timer sees each one leave (see WRITE_SLICE). */
function endWith(req: http.ClientRequest, body: Buffer | string | null): void {
  if (body === null || typeof body === 'string' || body.length <= WRITE_SLICE) return void req.end(body ?? undefined);
  let at = 0;
  for (; at + WRITE_SLICE < body.length; at += WRITE_SLICE) req.write(body.subarray(at, at + WRITE_SLICE));
  req.end(body.subarray(at));
}

/** The response allows the connection to be reused, by its version and `Connection` header. */
function persistent(res: http.IncomingMessage): boolean {
  const connection = res.headers.connection;
  return connectionAllowsReuse(res.httpVersionMajor, res.httpVersionMinor, connection === undefined ? '' : String(connection));
}

const CONNECTION_CLOSE = ['connection', 'close'];

/** A request's own timeout, or the pool's when it has none (-1). */
function ownOr(own: number, pool: number): number {
  return own >= 0 ? own : pool;
}
