// One socket slot: dial, TLS, write a request, feed the response parser, keep-alive.
// A slot carries one request at a time and outlives its sockets: when a socket dies
// the slot goes Dead and re-dials on its next request.
//
// Each slot has one phase timer (dial, TLS, response head or idle; only one of them
// can be running at a time), armed on the shared clock. The whole-request timer
// belongs to the request, not to the slot.
import type * as net from 'node:net';
import type { Config } from '../options.js';
import { arm, disarm, type Timed } from './timers.js';
import { connectTCP, startTLS, type Endpoint, type SessionCache } from './dial.js';
import { ResponseParser } from '../parser/response.js';
import type { Encoded } from '../parser/request.js';
import type { Response } from '../response.js';
import {
  ConnectError,
  ConnectTimeoutError,
  HeadersTimeoutError,
  type HttpClientPoolError,
  ParseError,
  type Phase,
  SocketError,
  TLSError,
  TLSTimeoutError,
} from '../errors.js';

/** What a connection needs of a request; the pool's request object provides it. */
export interface Exchange extends Encoded {
  /** HEAD: the response has no body whatever its headers say. */
  readonly bodiless: boolean;
  /** May be sent again when a reused socket fails before any response byte (idempotent method). */
  readonly retryable: boolean;
  /** The slot carrying it, set and cleared by the slot. */
  conn: Connection | null;
  /** Some of it was handed to a socket. */
  written: boolean;
  /** It went out on a socket that had served a request before. */
  reused: boolean;
  /** It was already resent once. */
  retried: boolean;
  succeed(res: Response): void;
  fail(err: HttpClientPoolError): void;
}

/** The origin pool a slot reports to. */
export interface SlotOwner {
  readonly config: Config;
  readonly endpoint: Endpoint;
  readonly sessions: SessionCache;
  /** The slot can take a request: it finished one, or lost its socket. */
  released(conn: Connection): void;
  /** The slot's socket is connected (and secured). */
  connected(conn: Connection): void;
  /** Dialing failed; `ex` is the request that was waiting for this slot, if any. */
  dialFailed(conn: Connection, ex: Exchange | null, err: HttpClientPoolError): void;
}

export const enum State {
  /** No socket; dials when given a request. */
  Dead,
  Connecting,
  Idle,
  Busy,
  /** The pool is gone; never used again. */
  Closed,
}

const enum Timer {
  None,
  Dial,
  TLS,
  Headers,
  Idle,
}

export class Connection implements Timed {
  readonly id: number;
  state = State.Dead;
  /** The request on this slot (waiting for the dial, or in flight). */
  current: Exchange | null = null;
  /** Responses completed on the current socket. */
  served = 0;
  // Counters over the slot's life, for stats(): cheap field increments only.
  /** Responses completed on any of the slot's sockets. */
  requests = 0;
  /** Dials started. */
  dials = 0;
  /** Requests failed by this slot (dial, socket, parse and header-timeout errors). */
  errors = 0;
  /** Bytes read and written by sockets already closed; add the live socket's own counts. */
  bytesInClosed = 0;
  bytesOutClosed = 0;
  /** `Date.now()` when the current socket became usable; 0 without one. */
  connectedAt = 0;
  deadline = 0;
  clockIndex = -1;

  private readonly owner: SlotOwner;
  private readonly parser: ResponseParser;
  private socket: net.Socket | null = null;
  private timer = Timer.None;
  private secure = false;
  private writesPending = 0;
  private socketError: Error | null = null;
  private feeding = false;

  constructor(id: number, owner: SlotOwner) {
    this.id = id;
    this.owner = owner;
    this.parser = new ResponseParser(owner.config.maxHeaderSize, owner.config.maxResponseSize);
    this.parser.onHead = this.headReceived.bind(this);
    this.onConnect = this.onConnect.bind(this);
    this.onSecureConnect = this.onSecureConnect.bind(this);
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    this.onWritten = this.onWritten.bind(this);
  }

  /** Free to take a request: no request on it and not closed. */
  get free(): boolean {
    return this.current === null && this.state !== State.Closed;
  }

  /** Starts a dial if the slot has no socket. */
  connect(): void {
    if (this.state !== State.Dead) return;
    const socket = connectTCP(this.owner.endpoint);
    this.state = State.Connecting;
    this.dials++;
    this.secure = false;
    this.socketError = null;
    this.listen(socket);
    this.setTimer(Timer.Dial, this.owner.config.dialTimeout);
  }

  /** Takes a request. The slot must be free. */
  dispatch(ex: Exchange): void {
    this.current = ex;
    ex.conn = this;
    if (this.state === State.Idle) this.send(ex);
    else if (this.state === State.Dead) this.connect();
    // Connecting: sent once connected.
  }

  /**
   * Takes back a request that was aborted or timed out. If it was already on the
   * wire, the socket is destroyed: the rest of its response would be unreadable.
   */
  withdraw(ex: Exchange): void {
    if (this.current !== ex) return;
    this.current = null;
    ex.conn = null;
    if (this.state === State.Busy) this.teardown();
    this.owner.released(this);
  }

  /** Closes the slot for good; a request still on it fails with `err`. */
  destroy(err: HttpClientPoolError | null): void {
    if (this.state === State.Closed) return;
    const ex = this.current;
    const phase = this.phase;
    this.current = null;
    this.teardown();
    this.state = State.Closed;
    if (this.feeding) setImmediate(() => this.parser.close());
    else this.parser.close();
    if (ex !== null) {
      ex.conn = null;
      if (err !== null) ex.fail(this.decorate(err, phase));
    }
  }

  /** Closes an idle socket; the slot stays usable and re-dials on demand. */
  closeIdle(): void {
    if (this.state === State.Idle) this.teardown();
  }

  // ---- timers

  expire(): void {
    const timer = this.timer;
    this.timer = Timer.None;
    const { config } = this.owner;
    switch (timer) {
      case Timer.Dial:
        this.failDial(new ConnectTimeoutError(config.dialTimeout, {}));
        break;
      case Timer.TLS:
        this.failDial(new TLSTimeoutError(config.tlsTimeout, {}));
        break;
      case Timer.Headers:
        this.failExchange(new HeadersTimeoutError(config.responseHeaderTimeout, {}), false);
        break;
      case Timer.Idle:
        this.teardown();
        break;
    }
  }

  private setTimer(timer: Timer, ms: number): void {
    this.timer = ms > 0 ? timer : Timer.None;
    arm(this, ms);
  }

  private clearTimer(): void {
    this.timer = Timer.None;
    disarm(this);
  }

  // ---- socket events

  private onConnect(): void {
    if (this.state !== State.Connecting || this.timer === Timer.TLS) return;
    const { endpoint, config } = this.owner;
    if (endpoint.tls === null) return this.established();
    // TLS as its own step, so that its timer covers the handshake alone.
    const tcp = this.socket!;
    this.setTimer(Timer.TLS, config.tlsTimeout);
    this.secure = true; // from here on a failure is the TLS phase's, even while waiting for the first ticket
    this.owner.sessions.acquire(() => {
      if (this.socket !== tcp) return; // given up on while waiting for the first ticket
      this.unlisten(tcp);
      tcp.on('error', noop);
      this.listen(startTLS(tcp, endpoint, this.owner.sessions));
    });
  }

  private onSecureConnect(): void {
    if (this.state === State.Connecting) this.established();
  }

  private established(): void {
    this.state = State.Idle;
    this.served = 0;
    this.connectedAt = Date.now();
    this.clearTimer();
    this.owner.connected(this);
    const ex = this.current;
    if (ex !== null) this.send(ex);
    else this.startIdle(this.owner.config.idleConnTimeout);
  }

  private onData(chunk: Buffer): void {
    const ex = this.current;
    if (ex === null || this.state !== State.Busy) {
      // Bytes nobody asked for: they must never be read as the next request's response.
      this.teardown();
      return;
    }
    const p = this.parser;
    this.feeding = true;
    p.feed(chunk);
    this.feeding = false;
    if (p.error !== null) this.failExchange(p.error, false);
    else if (p.response !== null) this.finish(ex, p.response, false);
  }

  private onEnd(): void {
    const ex = this.current;
    if (ex !== null && this.state === State.Busy) {
      // A close-delimited body ends here; anything else cut short is an error.
      if (this.parser.eof()) return this.finish(ex, this.parser.response!, true);
      const cause = this.socketError;
      const perr = this.parser.error;
      return this.failExchange(
        perr !== null && !(perr instanceof ParseError && perr.parserCode === 'HPE_INVALID_EOF_STATE')
          ? perr
          : cause === null
            ? new SocketError('the server closed the connection before the response was complete', { cause: perr ?? undefined })
            : new SocketError(`the connection failed before the response was complete: ${cause.message}`, { cause }),
        true,
      );
    }
    // While connecting, 'error' (with the reason) and 'close' follow; report there.
    if (this.state === State.Connecting) return;
    this.socketClosed();
  }

  private onError(err: Error): void {
    this.socketError = err;
  }

  private onClose(): void {
    this.socketClosed();
  }

  private socketClosed(): void {
    const err = this.socketError;
    if (this.state === State.Connecting) {
      const ctx = { cause: err ?? undefined };
      const detail = err?.message ?? 'socket closed';
      this.failDial(this.secure ? new TLSError(`TLS handshake failed: ${detail}`, ctx) : new ConnectError(`connect failed: ${detail}`, ctx));
    } else if (this.state === State.Busy) {
      const reason = err === null ? 'the connection closed' : `the connection failed: ${err.message}`;
      this.failExchange(new SocketError(`${reason} before the response was complete`, { cause: err ?? undefined }), true);
    } else {
      this.teardown(); // an idle socket closed by the server: nothing to report
    }
  }

  // ---- the exchange

  private send(ex: Exchange): void {
    this.state = State.Busy;
    this.clearTimer();
    ex.reused = this.served > 0;
    ex.written = true;
    this.parser.start(ex.bodiless);
    const socket = this.socket!;
    this.writesPending++;
    if (ex.body === null) {
      socket.write(ex.head, this.onWritten);
    } else {
      // Head and a large body leave in one writev.
      socket.cork();
      socket.write(ex.head);
      socket.write(ex.body, this.onWritten);
      socket.uncork();
    }
  }

  private onWritten(err?: Error | null): void {
    this.writesPending--;
    // The response-head timer starts once the request is fully written, unless the
    // head already came (a server may answer before reading a large upload).
    if (err == null && this.writesPending === 0 && this.state === State.Busy && this.timer === Timer.None && !this.parser.headComplete) {
      this.setTimer(Timer.Headers, this.owner.config.responseHeaderTimeout);
    }
  }

  private headReceived(): void {
    if (this.timer === Timer.Headers) this.clearTimer();
  }

  /** Settles a completed response; the socket is kept only if both sides allow it. */
  private finish(ex: Exchange, res: Response, socketEnded: boolean): void {
    this.current = null;
    ex.conn = null;
    this.served++;
    this.requests++;
    const idleMs = this.keepAliveFor(ex, socketEnded);
    if (idleMs >= 0) {
      this.state = State.Idle;
      this.startIdle(idleMs);
    } else {
      this.teardown();
    }
    ex.succeed(res);
    this.owner.released(this);
  }

  /** How long the socket may idle before reuse (0: no idle timer), or -1 when it must be closed. */
  private keepAliveFor(ex: Exchange, socketEnded: boolean): number {
    const p = this.parser;
    if (socketEnded || !p.keepAlive || p.trailing || ex.closeAfter || this.writesPending !== 0) return -1;
    return idleTime(this.owner.config.idleConnTimeout, p.keepAliveHint);
  }

  /**
   * Fails the request on this slot and drops the socket. `maybeRetry`: the socket
   * broke (reset, EOF) rather than timing out or sending garbage; a request that saw
   * no response byte on a reused socket is then resent once on a fresh one, if its
   * method is idempotent or none of it had been written.
   */
  private failExchange(err: HttpClientPoolError, maybeRetry: boolean): void {
    const ex = this.current;
    const started = this.parser.started;
    this.current = null;
    this.teardown();
    if (ex === null) return;
    this.errors++;
    ex.conn = null;
    if (maybeRetry && !started && !ex.retried && ex.reused && (ex.retryable || !ex.written)) {
      ex.retried = true;
      this.dispatch(ex);
      return;
    }
    ex.fail(this.decorate(err, this.parser.headComplete ? 'body' : 'headers'));
    this.owner.released(this);
  }

  private failDial(err: HttpClientPoolError): void {
    this.errors++;
    const ex = this.current;
    this.current = null;
    this.teardown();
    if (ex !== null) ex.conn = null;
    this.owner.dialFailed(this, ex, this.decorate(err));
  }

  private startIdle(ms: number): void {
    this.setTimer(Timer.Idle, ms);
  }

  /** Drops the socket; the slot goes Dead (or stays Closed). */
  private teardown(): void {
    this.clearTimer();
    const s = this.socket;
    if (s !== null) {
      this.socket = null;
      this.bytesInClosed += s.bytesRead;
      this.bytesOutClosed += s.bytesWritten;
      this.unlisten(s);
      s.on('error', noop); // late errors of a socket we gave up on are not news
      s.destroy();
    }
    if (this.state !== State.Closed) this.state = State.Dead;
    this.served = 0;
    this.connectedAt = 0;
    this.writesPending = 0;
  }

  private listen(s: net.Socket): void {
    this.socket = s;
    s.on('connect', this.onConnect);
    s.on('secureConnect', this.onSecureConnect);
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('error', this.onError);
    s.on('close', this.onClose);
  }

  private unlisten(s: net.Socket): void {
    s.removeListener('connect', this.onConnect);
    s.removeListener('secureConnect', this.onSecureConnect);
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('close', this.onClose);
  }

  private decorate(err: HttpClientPoolError, phase?: Phase): HttpClientPoolError {
    err.origin ??= this.owner.endpoint.origin;
    err.socketId ??= this.id;
    err.phase ??= phase;
    return err;
  }

  /** The phase of the slot's request, for errors raised from outside (abort, whole-request timeout). */
  get phase(): Phase {
    switch (this.state) {
      case State.Connecting:
        return this.secure || this.timer === Timer.TLS ? 'tls' : 'dial';
      case State.Busy:
        return this.writesPending > 0 ? 'write' : this.parser.headComplete ? 'body' : 'headers';
      default:
        return 'queue';
    }
  }

  /** The live socket, for stats; never to be written to or listened on from outside. */
  get liveSocket(): net.Socket | null {
    return this.socket;
  }
}

/**
 * How long a kept-alive socket may idle: `idleConnTimeout`, lowered to the server's
 * `Keep-Alive: timeout` hint minus a second so that we never write to a socket the
 * server is closing. 0: no idle timer; -1: close it now.
 */
export function idleTime(configured: number, hintMs: number): number {
  if (hintMs < 0) return configured;
  const hinted = hintMs - 1000;
  if (hinted <= 0) return -1;
  return configured === 0 ? hinted : Math.min(configured, hinted);
}

function noop(): void {}
