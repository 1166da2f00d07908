// One socket slot: dial, TLS, write a request, feed the response parser, keep-alive.
// A slot carries one request at a time and outlives its sockets: when a socket dies
// the slot goes Dead and re-dials on its next request.
//
// Each slot has one phase timer (dial, TLS, response head, body gap or idle; only one
// of them can be running at a time), armed on the shared clock. The whole-request timer
// belongs to the request, not to the slot.
import type * as net from 'node:net';
import type { LookupFunction } from 'node:net';
import type { AddressBook } from './addresses.js';
import { SlotCounters } from './counters.js';
import { Fifo } from '../fifo.js';
import type { Config } from '../options.js';
import { arm, disarm, type Timed } from './timers.js';
import { connectTCP, startTLS, type Endpoint, type SessionCache } from './dial.js';
import { ResponseParser } from '../parser/response.js';
import { idleTime } from '../keep-alive.js';
import { requestStartChannel, responseHeadersChannel, type RequestInfo } from '../diagnostics.js';
import { withConnectionClose, type Encoded } from '../parser/request.js';
import type { Response } from '../response.js';
import {
  BodyTimeoutError,
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
  /** For diagnostics events; built only when someone subscribes. */
  readonly info: RequestInfo;
  /** HEAD: the response has no body whatever its headers say. */
  readonly bodiless: boolean;
  /** May be sent again when its socket fails before any byte of its response (idempotent method). */
  readonly retryable: boolean;
  /** May share a socket's pipeline with other requests (idempotent, not closing the socket). */
  readonly pipelinable: boolean;
  /** The slot carrying it, set and cleared by the slot. */
  conn: Connection | null;
  /** Some of it was handed to a socket. */
  written: boolean;
  /** It went out on a socket that had served a request before. */
  reused: boolean;
  /** It was already resent once. */
  retried: boolean;
  /** Position in its socket's write order (for matching write callbacks). */
  seq: number;
  succeed(res: Response): void;
  fail(err: HttpClientPoolError): void;
}

/** The origin pool a slot reports to. */
export interface SlotOwner {
  readonly config: Config;
  readonly endpoint: Endpoint;
  /** The host's addresses, when the slots spread over them; null for IP literals and unix sockets. */
  readonly addresses: AddressBook | null;
  readonly sessions: SessionCache;
  /** The slot can take a request: it finished one, or lost its socket. */
  released(conn: Connection): void;
  /** The slot's socket is connected (and secured). */
  connected(conn: Connection): void;
  /** Dialing failed; `ex` is the request that was waiting for this slot, if any. */
  dialFailed(conn: Connection, ex: Exchange | null, err: HttpClientPoolError): void;
  /** Requests that were sent but never answered, to be sent again ahead of the queue, in order. */
  resend(exs: Exchange[]): void;
  /** A `ready()` waits for the slots that are connecting: their sockets hold the process meanwhile. */
  readonly awaited: boolean;
  /** The slot dropped its socket and has nothing on it (the origin may have nothing left at all). */
  emptied(conn: Connection): void;
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
  /** The gap between two reads of a response body. */
  Body,
  Idle,
}

export class Connection extends SlotCounters implements Timed {
  readonly id: number;
  state = State.Dead;
  /**
   * Requests on this slot, oldest first: the one waiting for the dial, or those
   * written and not yet answered (more than one only with pipelining).
   */
  readonly inflight = new Fifo<Exchange>();
  /** Responses completed on the current socket. */
  served = 0;
  /** `Date.now()` when the current socket became usable; 0 without one. */
  connectedAt = 0;
  deadline = 0;
  clockIndex = -1;

  private readonly owner: SlotOwner;
  private readonly parser: ResponseParser;
  private readonly depth: number;
  /** Picks this slot's address among the host's (multi-address dialing); undefined: Node's own lookup. */
  private readonly lookup: LookupFunction | undefined;
  private socket: net.Socket | null = null;
  private timer = Timer.None;
  private secure = false;
  /** Requests written / whose writes completed on the current socket. */
  private sent = 0;
  private flushed = 0;
  private socketError: Error | null = null;
  private feeding = false;
  private corked = false;
  /** The socket takes no more requests and closes after those on it (recycling). */
  private retiring = false;
  /** `maxConnAge` of the current socket, jittered; 0 = no limit. */
  private ageLimit = 0;
  /** Plain sockets read into this one buffer (see `readInto`); null until the first dial, and for TLS. */
  private readBuffer: Buffer | null = null;
  /** The socket's `onread` option: plain sockets only (TLS reads through its own layer). */
  private readonly onread: net.OnReadOpts | undefined;
  /** The socket is ref'd (a new one is), i.e. it keeps the process alive; see `hold()`. */
  private held = true;
  /** A request that could not be sent again, held back from a reused idle socket until the loop has read it (see `defer`). */
  private deferred: Exchange | null = null;
  private deferTimer: NodeJS.Immediate | null = null;
  /** A write on the current socket failed and the socket is read on for an answer already sent (see `writeFailed`). */
  private readingOn = false;

  constructor(id: number, owner: SlotOwner) {
    super();
    this.id = id;
    this.owner = owner;
    this.depth = owner.config.pipelining;
    this.parser = new ResponseParser(owner.config.maxHeaderSize, owner.config.maxResponseSize);
    this.parser.onHead = this.headReceived.bind(this);
    this.onConnect = this.onConnect.bind(this);
    this.onSecureConnect = this.onSecureConnect.bind(this);
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    this.onWritten = this.onWritten.bind(this);
    this.lookup = owner.addresses === null ? undefined : owner.addresses.lookupFor(id);
    this.flush = this.flush.bind(this);
    this.onread = owner.endpoint.tls === null ? { buffer: this.readInto.bind(this), callback: this.onRead.bind(this) } : undefined;
  }

  /**
   * Can take `ex` now: when empty; with pipelining, also behind other pipelinable
   * requests on a connected socket, up to the pipeline depth.
   */
  canTake(ex: Exchange): boolean {
    const n = this.inflight.length;
    if (n === 0) return this.state !== State.Closed;
    return (
      !this.retiring &&
      this.deferred === null &&
      n < this.depth &&
      ex.pipelinable &&
      (this.state === State.Idle || this.state === State.Busy) &&
      this.inflight.at(n - 1).pipelinable
    );
  }

  /** Starts a dial if the slot has no socket. */
  connect(): void {
    if (this.state !== State.Dead) return;
    const socket = connectTCP(this.owner.endpoint, this.lookup, this.onread);
    this.state = State.Connecting;
    this.dials++;
    this.secure = false;
    this.socketError = null;
    this.held = true;
    this.listen(socket);
    this.setTimer(Timer.Dial, this.owner.config.dialTimeout);
    this.hold();
  }

  /**
   * Refs the socket while a caller waits on it (a request on the slot, or a pending
   * `ready()` while it connects) and unrefs it otherwise, so that idle and eagerly
   * dialed sockets never keep the process alive. A queued request needs nothing of its
   * own: it waits only while every slot it could take carries a request.
   */
  hold(): void {
    const want = this.inflight.length !== 0 || (this.state === State.Connecting && this.owner.awaited);
    if (want === this.held || this.socket === null) return;
    this.held = want;
    if (want) this.socket.ref();
    else this.socket.unref();
  }

  /** Takes a request; `canTake(ex)` must be true. */
  dispatch(ex: Exchange): void {
    this.inflight.push(ex);
    ex.conn = this;
    if (this.state === State.Idle && this.served > 0 && (ex.retried || !ex.retryable)) this.defer(ex);
    else if (this.state === State.Idle || this.state === State.Busy) this.send(ex);
    else if (this.state === State.Dead) this.connect();
    if (!this.held) this.hold();
    // Connecting: sent once connected.
  }

  /**
   * A request that cannot be sent again if its socket turns out dead (not idempotent,
   * or resent already) must not go out on a kept-alive socket whose close by the server
   * may be sitting unread: when the event loop was busy as the server's FIN or reset
   * arrived, nothing has read it yet, and the request would be lost. Node reads sockets
   * only in libuv's poll phase, and this code may itself run inside a poll-phase callback
   * (a response just read, a timer of the caller's after a stall): one setImmediate
   * would run in the check phase of the same loop turn, before any new poll. The
   * second, set from the first, runs in the next turn's check phase, so one poll (not
   * blocking: an immediate is pending) has read the socket in between. If it found an
   * EOF or a reset the slot re-dials and the request goes out on the fresh socket; it
   * was never written, so that is not a retry. Idempotent requests go at once: one
   * that meets a dead socket is resent.
   */
  private defer(ex: Exchange): void {
    if (this.deferTimer !== null) clearImmediate(this.deferTimer);
    this.deferred = ex;
    this.deferTimer = setImmediate(deferOneTurn, this);
  }

  /** The second turn of `defer` (called from the first). */
  deferAgain(): void {
    this.deferTimer = setImmediate(deferDone, this);
  }

  /** The loop has polled since `defer`: send on the socket if it is still sound, else on a fresh one. */
  sendDeferred(): void {
    const ex = this.deferred;
    this.deferred = null;
    this.deferTimer = null;
    if (ex === null || ex.conn !== this) return;
    if (this.state === State.Idle) {
      const s = this.socket!;
      if (!s.destroyed && s.writable && this.socketError === null) return this.send(ex);
      this.teardown(); // a reset read in that poll: its 'close' comes later
    }
    if (this.state === State.Dead) this.connect(); // sent once connected
  }

  private cancelDeferred(): void {
    if (this.deferTimer !== null) clearImmediate(this.deferTimer);
    this.deferTimer = null;
    this.deferred = null;
  }

  /**
   * Takes back a request that was aborted or timed out. If it was already on the
   * wire, the socket is destroyed: the rest of its response would be unreadable;
   * requests pipelined behind it go back to the pool.
   */
  withdraw(ex: Exchange): void {
    const i = this.inflight.indexOf(ex);
    if (i < 0) return;
    this.inflight.removeAt(i);
    ex.conn = null;
    if (ex === this.deferred) this.cancelDeferred();
    // Behind the oldest, the oldest's answer may have begun; the oldest gone, nothing behind it has.
    if (this.state === State.Busy) this.dropSocket(null, i !== 0 && this.parser.responseBegun());
    else this.hold(); // a dial nobody waits for any more
    this.owner.released(this);
  }

  /** Closes the slot for good; requests still on it fail with `err`. */
  destroy(err: HttpClientPoolError | null): void {
    if (this.state === State.Closed) return;
    const phase = this.phase;
    const lost = this.takeAll();
    this.cancelDeferred();
    this.teardown();
    this.state = State.Closed;
    if (this.feeding) setImmediate(() => this.parser.close());
    else this.parser.close();
    if (err !== null) for (const ex of lost) ex.fail(this.decorate(lost.length === 1 ? err : cloneError(err), phase));
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
        this.failHead(new HeadersTimeoutError(config.responseHeaderTimeout, {}), false);
        break;
      case Timer.Body:
        this.failHead(new BodyTimeoutError(config.bodyTimeout, {}), false);
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
    this.sent = 0;
    this.flushed = 0;
    this.connectedAt = Date.now();
    const age = this.owner.config.maxConnAge;
    // ±10% jitter, so sockets dialed together do not all recycle together.
    this.ageLimit = age > 0 ? age * (0.9 + Math.random() * 0.2) : 0;
    this.clearTimer();
    this.parser.reset();
    this.owner.connected(this);
    const ex = this.inflight.length === 0 ? null : this.inflight.at(0);
    if (ex !== null) this.send(ex);
    else this.startIdle(this.owner.config.idleConnTimeout);
    // With pipelining, requests that queued while this socket was connecting can join it now.
    if (this.depth > 1) this.owner.released(this);
  }

  /**
   * Where a plain socket reads next (Node asks after every read): the missing rest of a
   * large Content-Length body, so the kernel copies it straight into the response's
   * buffer; otherwise this slot's one read buffer, so no read allocates.
   */
  private readInto(): Buffer {
    const direct = this.state === State.Busy ? this.parser.bodyTarget(DIRECT_READ_MIN) : null;
    return direct ?? (this.readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE));
  }

  /** A read of a plain socket (the `onread` callback); true: go on reading. */
  private onRead(n: number, buf: Buffer): boolean {
    if (buf === this.readBuffer) {
      this.onData(buf, n);
    } else if (this.expectingBytes()) {
      this.parser.bodyFilled(n);
      this.afterParse();
    }
    return true;
  }

  /** Bytes read: all of `chunk` ('data' events), or its first `n` (a read into the slot's buffer). */
  private onData(chunk: Buffer, n = chunk.length): void {
    if (!this.expectingBytes()) return;
    this.feeding = true;
    this.parser.feed(chunk, n);
    this.feeding = false;
    this.afterParse();
  }

  /** A response is due; otherwise the bytes are nobody's and the socket is dropped. */
  private expectingBytes(): boolean {
    if (this.inflight.length !== 0 && this.state === State.Busy) return true;
    // Bytes nobody asked for: they must never be read as the next request's response.
    this.teardown();
    return false;
  }

  private afterParse(): void {
    const p = this.parser;
    this.settleCompleted(false);
    if (this.state !== State.Busy) return;
    if (p.error !== null) this.failHead(p.error, false);
    else if (p.trailing) this.dropSocket(null, p.responseBegun());
    else if (p.headComplete) this.bodyRead();
  }

  /**
   * Bytes of a body that is not complete yet were read: the body timer runs (again)
   * from now. A body that arrives with its head in one read never arms it.
   */
  private bodyRead(): void {
    const t = this.timer;
    if (t === Timer.None || t === Timer.Body) this.setTimer(Timer.Body, this.owner.config.bodyTimeout);
  }

  private onEnd(): void {
    if (this.inflight.length !== 0 && this.state === State.Busy) {
      // A close-delimited body ends here; anything else cut short is an error.
      this.parser.eof();
      this.settleCompleted(true);
      if (this.state !== State.Busy) return;
      const cause = this.socketError;
      const perr = this.parser.error;
      return this.failHead(
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
    // The first error is the news: after a failed write, a reset read later is its echo.
    this.socketError ??= err;
    // The 'error' of a write we read on after (see writeFailed): Node marked the read side
    // failed as well, which would drop the bytes still to come and the EOF.
    if (this.readingOn && this.socket !== null && !this.socket.destroyed) (this.socket as unknown as StreamStates)._readableState.errored = null;
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
      this.failHead(new SocketError(`${reason} before the response was complete`, { cause: err ?? undefined }), true);
    } else {
      this.teardown(); // an idle socket closed by the server: nothing to report
    }
  }

  // ---- the exchanges

  private send(ex: Exchange): void {
    if (ex === this.deferred) this.cancelDeferred(); // deferred, then sent from a re-dial that came first
    if (this.state === State.Idle) this.clearTimer();
    this.state = State.Busy;
    ex.reused = this.served > 0 || this.sent > 0;
    ex.written = true;
    if (!this.retiring && this.pastLimits()) {
      // Recycling: this is the socket's last request; it tells the server so, and the
      // socket closes after its response. Nothing fails or is resent because of it.
      this.retiring = true;
      if (!ex.closeAfter) ex.head = withConnectionClose(ex.head);
    }
    ex.seq = this.sent++;
    this.parser.expect(ex.bodiless);
    if (requestStartChannel.hasSubscribers) requestStartChannel.publish({ request: ex.info, socketId: this.id });
    const socket = this.socket!;
    if (this.depth > 1 && !this.corked) {
      // Pipelined requests made in the same turn (callers answering the responses just
      // settled) leave together in one writev, after the current microtasks.
      this.corked = true;
      socket.cork();
      queueMicrotask(this.flush);
    }
    if (ex.body === null) {
      socket.write(ex.head);
      // The common case: the kernel took the head at once, and no callback needs to wait
      // for a later tick. Otherwise an empty write behind it reports when it has left.
      if (socket.writableLength === 0 && !socket.destroyed) this.onWritten();
      else socket.write(EMPTY, this.onWritten);
    } else {
      // Head and a large body leave in one writev.
      socket.cork();
      socket.write(ex.head);
      socket.write(ex.body, this.onWritten);
      socket.uncork();
    }
  }

  private flush(): void {
    this.corked = false;
    this.socket?.uncork();
  }

  private onWritten(err?: Error | null): void {
    this.flushed++;
    if (err != null) this.writeFailed(err);
    // After a failed write too: the head timer bounds the wait for an answer already sent.
    this.maybeStartHeadTimer();
  }

  /**
   * A write failed (EPIPE, ECONNRESET): a server that answers an upload before reading it
   * (401, 413, and close) makes the client's write fail while its complete answer may
   * already sit in the kernel, readable still (Linux keeps received bytes after a reset).
   * Node destroys a socket whose write failed, and a destroyed socket reads nothing
   * more; so this socket is kept and read on until a complete response (which settles the
   * request; the socket is dropped after it), its EOF or a reset (the request fails, the
   * write error as cause). Called before Node's errorOrDestroy, which with autoDestroy
   * off emits 'error' instead of destroying.
   */
  private writeFailed(err: Error): void {
    const s = this.socket;
    // A late callback of a socket given up on, or a write cancelled by our own destroy.
    if (s === null || s.destroyed || this.state !== State.Busy || (err as NodeJS.ErrnoException).syscall === undefined) return;
    this.socketError ??= err;
    this.readingOn = true;
    const states = s as unknown as StreamStates;
    states._writableState.autoDestroy = false;
    states._readableState.autoDestroy = false;
  }

  /**
   * The response-head timer covers the oldest unanswered request, from when it is
   * fully written (or, pipelined, from when the response before it completed) to the
   * end of its response head.
   */
  private maybeStartHeadTimer(): void {
    if (this.state !== State.Busy || this.timer !== Timer.None || this.inflight.length === 0) return;
    const head = this.inflight.at(0);
    if (head.seq < this.flushed && !this.parser.headComplete) this.setTimer(Timer.Headers, this.owner.config.responseHeaderTimeout);
  }

  private headReceived(statusCode: number, rawHeaders: string[]): void {
    if (this.timer === Timer.Headers) this.clearTimer();
    if (responseHeadersChannel.hasSubscribers && this.inflight.length !== 0) {
      responseHeadersChannel.publish({ request: this.inflight.at(0).info, socketId: this.id, statusCode, rawHeaders });
    }
  }

  /** Settles the responses the parser completed, oldest first; keeps or drops the socket after them. */
  private settleCompleted(socketEnded: boolean): void {
    const p = this.parser;
    const done = p.done;
    if (done.length === 0) return;
    for (let res = done.shift(); res !== undefined; res = done.shift()) {
      // A settle callback (a diagnostics subscriber) may have destroyed the slot meanwhile.
      const ex = this.inflight.shift();
      if (ex === undefined) {
        done.clear();
        break;
      }
      ex.conn = null;
      this.served++;
      this.requests++;
      // A response that came before its request was fully written ends the socket's use.
      if (ex.seq >= this.flushed) socketEnded = true;
      if (ex.closeAfter) socketEnded = true;
      ex.succeed(res);
    }
    if (this.state !== State.Busy) return; // settled callbacks may have destroyed the slot
    if (socketEnded || this.readingOn || !p.keepAlive || p.trailing || (this.retiring && this.inflight.length === 0)) {
      // The socket carries nothing more (or was recycled after its last answer); requests
      // pipelined behind that were never answered go back to the pool.
      this.dropSocket(null, p.responseBegun());
    } else if (this.inflight.length === 0) {
      const idleMs = idleTime(this.owner.config.idleConnTimeout, p.keepAliveHint);
      if (idleMs < 0) {
        this.teardown();
      } else {
        this.state = State.Idle;
        // A queued request may take the socket at once; the idle timer is for one that stays idle.
        this.clearTimer();
        this.owner.released(this);
        if (this.state === State.Idle) this.startIdle(idleMs);
        return;
      }
    } else {
      this.clearTimer();
      this.maybeStartHeadTimer();
    }
    this.owner.released(this);
  }

  /**
   * Fails the oldest request on this socket and drops the socket. `maybeRetry`: the
   * socket broke (reset, EOF) rather than timing out or sending garbage; a request
   * that saw no response byte on a reused socket is then resent once on a fresh one,
   * if its method is idempotent or none of it had been written. Requests pipelined
   * behind it are resent (if safe) or failed by dropSocket().
   */
  private failHead(err: HttpClientPoolError, maybeRetry: boolean): void {
    const ex = this.inflight.shift();
    if (ex === undefined) return this.teardown();
    ex.conn = null;
    const phase: Phase = this.parser.headComplete ? 'body' : 'headers';
    const retry = maybeRetry && !ex.retried && ex.reused && (ex.retryable || !ex.written) && !this.parser.responseBegun();
    this.dropSocket(retry ? ex : null);
    if (!retry) {
      this.errors++;
      ex.fail(this.decorate(err, phase));
    }
    this.owner.released(this);
  }

  /**
   * Drops the socket with requests still on it: those that got no byte of response
   * and are safe to resend (idempotent, not resent before) go back to the pool ahead
   * of the queue, in order (`first` leading); the others fail. `oldestBegun`: bytes
   * of an answer to the oldest of them arrived, so it is never sent again.
   */
  private dropSocket(first: Exchange | null, oldestBegun = false): void {
    const rest = this.takeAll();
    this.teardown();
    const again: Exchange[] = [];
    if (first !== null) {
      first.retried = true;
      again.push(first);
    }
    for (let i = 0; i < rest.length; i++) {
      const ex = rest[i]!;
      const oldest = i === 0 && first === null;
      if (ex.retryable && !ex.retried && !(oldest && oldestBegun)) {
        ex.retried = true;
        again.push(ex);
      } else {
        this.errors++;
        const message = oldest
          ? 'the connection was closed before the response to this request was complete'
          : 'the connection was closed before this pipelined request was answered';
        ex.fail(this.decorate(new SocketError(message, {}), oldest && oldestBegun && this.parser.headComplete ? 'body' : 'headers'));
      }
    }
    if (again.length !== 0) this.owner.resend(again);
  }

  private takeAll(): Exchange[] {
    const all = this.inflight.takeAll();
    for (const ex of all) ex.conn = null;
    return all;
  }

  private failDial(err: HttpClientPoolError): void {
    this.errors++;
    const ex = this.inflight.length === 0 ? null : this.inflight.shift()!;
    const rest = this.takeAll();
    this.teardown();
    if (ex !== null) ex.conn = null;
    this.owner.dialFailed(this, ex, this.decorate(err));
    if (rest.length !== 0) this.owner.resend(rest);
  }

  private startIdle(ms: number): void {
    this.setTimer(Timer.Idle, ms);
    this.hold();
  }

  /** Drops the socket; the slot goes Dead (or stays Closed). */
  private teardown(): void {
    this.clearTimer();
    const s = this.socket;
    if (s !== null) {
      this.socket = null;
      this.socketGone(s);
      this.unlisten(s);
      s.on('error', noop); // late errors of a socket we gave up on are not news
      s.destroy();
    }
    if (this.state !== State.Closed) this.state = State.Dead;
    this.readingOn = false;
    this.served = 0;
    this.connectedAt = 0;
    this.retiring = false;
    if (s !== null && this.state === State.Dead && this.inflight.length === 0) this.owner.emptied(this);
  }

  /** Past `maxRequestsPerConn` (counting this request) or `maxConnAge`: time to recycle the socket. */
  private pastLimits(): boolean {
    const { maxRequestsPerConn } = this.owner.config;
    if (maxRequestsPerConn > 0 && this.sent + 1 >= maxRequestsPerConn) return true;
    return this.ageLimit > 0 && Date.now() - this.connectedAt >= this.ageLimit;
  }

  /**
   * Recycles the socket without failing anything: an idle one closes now and the slot
   * re-dials; a busy one takes no more requests and closes after its last response.
   */
  recycle(): void {
    if (this.state === State.Idle) {
      this.teardown();
      this.connect();
    } else if (this.state === State.Busy) {
      this.retiring = true;
    } else if (this.state === State.Connecting) {
      // Dialed before the change: dial again so it follows the new addresses.
      const waiting = this.takeAll();
      this.teardown();
      for (const ex of waiting) this.dispatch(ex);
      if (waiting.length === 0) this.connect();
    }
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

  /** The phase of the slot's oldest request, for errors raised from outside (abort, whole-request timeout). */
  get phase(): Phase {
    switch (this.state) {
      case State.Connecting:
        return this.secure || this.timer === Timer.TLS ? 'tls' : 'dial';
      case State.Busy:
        return this.inflight.length !== 0 && this.inflight.at(0).seq >= this.flushed ? 'write' : this.parser.headComplete ? 'body' : 'headers';
      default:
        return this.deferred !== null ? 'write' : 'queue';
    }
  }

  /** Phase of a particular request on this slot (a pipelined one behind the head waits for its head). */
  phaseOf(ex: Exchange): Phase {
    if ((this.inflight.length !== 0 && this.inflight.at(0) === ex) || this.state !== State.Busy) return this.phase;
    return ex.seq >= this.flushed ? 'write' : 'headers';
  }

  /** The live socket, for stats; never to be written to or listened on from outside. */
  get liveSocket(): net.Socket | null {
    return this.socket;
  }
}

/** A copy of `err` for another request (each rejection carries its own context). */
function cloneError(err: HttpClientPoolError): HttpClientPoolError {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as HttpClientPoolError;
  return Object.assign(copy, err, { message: err.message, stack: err.stack });
}

function noop(): void {}

/** The fields of Node's stream states that `writeFailed` and `onError` set (present on Node 20-24). */
interface StreamStates {
  _writableState: { autoDestroy: boolean };
  _readableState: { autoDestroy: boolean; errored: Error | null };
}

function deferOneTurn(c: Connection): void {
  c.deferAgain();
}

function deferDone(c: Connection): void {
  c.sendDeferred();
}

const EMPTY = Buffer.alloc(0);
/** Size of a plain socket's read buffer: what one read takes at most. */
const READ_BUFFER_SIZE = 64 * 1024;
/** A body missing at least this much is read straight into its buffer. */
const DIRECT_READ_MIN = 16 * 1024;
