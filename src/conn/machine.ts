// The protocol of one raw slot as a state machine: no socket, no clock, no timers. Its
// driver (slot.ts) turns socket events into calls here (connected, bytes read,
// write done, EOF, error, the phase timer fired) and carries out what the machine asks
// through `SlotIo` (dial, start TLS, write these bytes, arm or clear the timer, close).
// The origin hands requests over with `take()` and hears back through `SlotReports`;
// it never gets a call from here while this machine is half-way through an event:
// every report that lets the origin act comes last, as `wake()`.
//
// A slot carries one request at a time (more with pipelining) and outlives its
// sockets: when a socket dies the slot goes Dead and re-dials with its next request.
// It has one phase timer (dial, TLS, response head, body gap or idle; only one of them
// can be running at a time). The whole-request timer belongs to the request.
import type { Config } from '../options.js';
import { Fifo } from '../fifo.js';
import type { Request } from '../pool/request.js';
import { SlotCounters, type DestroyReason, type SlotReports } from '../pool/slot.js';
import { isStreamedHead, ResponseParser, StreamEvent } from '../parser/response.js';
import { withConnectionClose } from '../parser/request.js';
import { CLOSES_EACH_WINDOW_MS, idleTime } from '../keep-alive.js';
import { requestStartChannel, responseHeadersChannel } from '../diagnostics.js';
import {
  WriteTimeoutError,
  BodyTimeoutError,
  ConnectError,
  ConnectTimeoutError,
  HeadersTimeoutError,
  HttpClientPoolError,
  ParseError,
  type Phase,
  RequestBodyError,
  SocketError,
  TLSError,
  TLSTimeoutError,
} from '../errors.js';
import type { Response } from '../response.js';
import type { SocketState } from '../pool/stats.js';
import { Dialing, Open, State, STATE_NAMES, Timer, type SlotIo } from './states.js';

export { State, type SlotIo };

export class SlotMachine extends SlotCounters {
  readonly id: number;
  /**
   * Requests on this slot, oldest first: the one waiting for the dial, or those
   * written and not yet answered (more than one only with pipelining).
   */
  readonly inflight = new Fifo<Request>();

  private state = State.Dead;
  private dialing: Dialing | null = null;
  private open: Open | null = null;
  private timer = Timer.None;
  private readonly parser: ResponseParser;
  private readonly depth: number;
  /** The socket is ref'd (a new one is), i.e. it keeps the process alive; see `hold()`. */
  private held = true;
  /** A request that cannot be sent again, kept from a reused idle socket until the loop has read it (see `defer`). */
  private deferred: Request | null = null;
  /**
   * The peer closes its side after each response without saying so (tinyproxy 1.11): a
   * socket closed while idle right after its first response taught it. From then on each
   * request goes out with `connection: close` on a fresh socket, so that none is written
   * into a close on its way (a POST would be lost there).
   */
  private closesEach = false;
  /** `now()` when the last response kept its socket open. */
  private keptAt = 0;

  constructor(
    id: number,
    /** `scheme://host:port`, for errors. */
    private readonly origin: string,
    private readonly config: Config,
    private readonly tls: boolean,
    private readonly io: SlotIo,
    private readonly owner: SlotReports,
  ) {
    super();
    this.id = id;
    this.depth = config.pipelining;
    this.parser = new ResponseParser(config.maxHeaderSize, config.maxResponseSize);
  }

  get kind(): State {
    return this.state;
  }

  /** The state as stats name it. */
  get stateName(): SocketState {
    return STATE_NAMES[this.state];
  }

  /** `now()` when the current socket became usable; 0 without one. */
  get connectedAt(): number {
    return this.open?.connectedAt ?? 0;
  }

  // ---- from the origin

  /**
   * Can take `req` now: when empty; with pipelining, also behind other pipelinable
   * requests on a connected socket, up to the pipeline depth.
   */
  canTake(req: Request): boolean {
    const n = this.inflight.length;
    if (n === 0) return this.state !== State.Closed;
    const open = this.open;
    // Never behind a failed write: the server is gone (it reset or closed), and what it
    // may still have sent is only being read on (see writeFailed).
    return open !== null && !open.retiring && open.error === null && this.deferred === null && n < this.depth && req.pipelinable && this.inflight.at(n - 1).pipelinable;
  }

  /** Starts a dial if the slot has no socket. */
  connect(): void {
    if (this.state !== State.Dead) return;
    this.state = State.Connecting;
    this.dialing = new Dialing();
    this.dials++;
    this.io.dial();
    this.held = true;
    this.setTimer(Timer.Dial, this.config.dialTimeout);
    this.hold();
  }

  /**
   * Refs the socket while a caller waits on it (a request on the slot, or a pending
   * `ready()` while it connects) and unrefs it otherwise, so that idle and eagerly
   * dialed sockets never keep the process alive. A queued request needs nothing of its
   * own: it waits only while every slot it could take carries a request.
   */
  hold(): void {
    if (this.dialing === null && this.open === null) return;
    const want = this.inflight.length !== 0 || (this.dialing !== null && this.owner.awaited);
    if (want === this.held) return;
    this.held = want;
    this.io.ref(want);
  }

  /** Takes a request; `canTake(req)` must be true. */
  take(req: Request): void {
    this.inflight.push(req);
    req.slot = this;
    const open = this.open;
    if (open !== null && this.state === State.Idle && open.served > 0 && (req.retried || !req.retryable)) this.defer(req);
    else if (open !== null) this.send(req);
    else this.connect(); // Connecting: sent once connected
    if (!this.held) this.hold();
  }

  /**
   * A request that cannot be sent again if its socket turns out dead (not idempotent,
   * or resent already) must not go out on a kept-alive socket whose close by the server
   * may be sitting unread: when the event loop was busy as the server's FIN or reset
   * arrived, nothing has read it yet, and the request would be lost. So it waits until
   * the loop has polled the socket (`afterPoll`). If that found an EOF or a reset, the
   * slot re-dials and the request goes out on the fresh socket; it was never written, so
   * that is not a retry. Idempotent requests go at once: one that meets a dead socket is
   * resent.
   */
  private defer(req: Request): void {
    this.deferred = req;
    this.io.afterPoll();
  }

  /** The loop has polled since `defer`: send on the socket if it is still sound, else on a fresh one. */
  polled(): void {
    const req = this.deferred;
    this.deferred = null;
    if (req === null || req.slot !== this) return;
    if (this.state === State.Idle) {
      if (this.open!.error === null && this.io.writable()) return this.send(req);
      this.teardown(); // a reset read in that poll: its 'close' comes later
    }
    if (this.state === State.Dead) this.connect(); // sent once connected
  }

  private cancelDeferred(): void {
    if (this.deferred === null) return;
    this.deferred = null;
    this.io.cancelPoll();
  }

  /**
   * Takes back a request that was aborted or timed out. If it was already on the
   * wire, the socket is dropped: the rest of its response would be unreadable;
   * requests pipelined behind it go back to the origin.
   */
  withdraw(req: Request): void {
    const i = this.inflight.indexOf(req);
    if (i < 0) return;
    this.inflight.removeAt(i);
    req.slot = null;
    if (req === this.deferred) this.cancelDeferred();
    // Behind the oldest, the oldest's answer may have begun; the oldest gone, nothing behind it has.
    // One aborted as it is announced was not written: the socket carries on.
    if (this.state === State.Busy && req !== this.announcing) this.dropSocket(null, i !== 0 && this.parser.responseBegun(), true);
    else this.hold(); // a dial nobody waits for any more
    this.owner.wake();
  }

  /** Closes the slot for good; requests still on it fail with `reason()` (each with its own copy), or with the caller's error itself. */
  destroy(reason: DestroyReason | null): void {
    if (this.state === State.Closed) return;
    const phase = this.phase;
    const lost = this.takeAll();
    this.cancelDeferred();
    this.teardown();
    this.state = State.Closed;
    this.parser.close();
    if (reason === null || lost.length === 0) return;
    if (typeof reason !== 'function') {
      for (const req of lost) req.fail(reason);
      return;
    }
    const err = reason();
    for (const req of lost) req.fail(this.decorate(lost.length === 1 ? err : cloneError(err), phase));
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
      this.open!.retiring = true;
    } else if (this.state === State.Connecting) {
      // Dialed before the change: dial again so it follows the new addresses.
      const waiting = this.takeAll();
      this.teardown();
      for (const req of waiting) this.take(req);
      if (waiting.length === 0) this.connect();
    }
  }

  // ---- from the driver

  /** The phase timer fired. */
  expire(): void {
    const timer = this.timer;
    this.timer = Timer.None;
    const { config } = this;
    switch (timer) {
      case Timer.Dial:
        return this.failDial(new ConnectTimeoutError(config.dialTimeout, {}));
      case Timer.TLS:
        return this.failDial(new TLSTimeoutError(config.tlsTimeout, {}));
      case Timer.Headers:
        return this.failOldest(new HeadersTimeoutError(this.frontTimeout(true), {}), false);
      case Timer.Body:
        return this.failOldest(new BodyTimeoutError(this.frontTimeout(false), {}), false);
      case Timer.Idle:
        return this.teardown();
      case Timer.Write: {
        const sent = this.io.bytesSent();
        if (sent === this.sentAtArm) return this.failOldest(new WriteTimeoutError(config.writeTimeout, {}), false);
        // Bytes left since it was armed: the server reads, if slowly.
        this.sentAtArm = sent;
        return this.setTimer(Timer.Write, config.writeTimeout);
      }
      case Timer.Continue:
        // No 100 in time: the server may not know the expectation; the body goes anyway.
        this.awaitingContinue = false;
        this.io.uploadGo();
        return this.startWriteTimer();
    }
  }

  /** TCP (or the unix socket) connected. */
  connected(): void {
    const d = this.dialing;
    if (d === null || d.tls) return;
    if (!this.tls) return this.established();
    // TLS as its own step, so that its timer covers the handshake alone.
    d.tls = true; // from here on a failure is the TLS phase's, even while waiting for the first ticket
    this.setTimer(Timer.TLS, this.config.tlsTimeout);
    this.io.startTLS();
  }

  /** The TLS handshake finished. */
  secured(): void {
    if (this.dialing !== null) this.established();
  }

  /**
   * Where a plain socket reads next: the missing rest of a large Content-Length body,
   * so the kernel copies it straight into the response's buffer; otherwise null (the
   * driver's own read buffer).
   */
  readTarget(min: number): Buffer | null {
    return this.state === State.Busy ? this.parser.bodyTarget(min) : null;
  }

  /** The first `n` bytes of `chunk` were read. */
  read(chunk: Buffer, n: number): void {
    if (!this.expectingBytes()) return;
    this.parser.feed(chunk, n);
    this.afterParse();
  }

  /** `n` bytes were read into the last `readTarget()`. */
  filled(n: number): void {
    if (!this.expectingBytes()) return;
    this.parser.bodyFilled(n);
    this.afterParse();
  }

  /** The write of the oldest unflushed request completed (or failed: `err`). */
  written(err: Error | null): void {
    const open = this.open;
    if (open === null) return;
    open.flushed++;
    if (this.timer === Timer.Write && open.flushed === open.sent) this.clearTimer();
    if (err !== null) this.writeFailed(open, err);
    // After a failed write too: the head timer bounds the wait for an answer already sent.
    this.maybeStartHeadTimer();
  }

  /**
   * A write failed (EPIPE, ECONNRESET): a server that answers an upload before reading it
   * (401, 413, and close) makes the client's write fail while its complete answer may
   * already sit in the kernel, readable still (Linux keeps received bytes after a reset).
   * So the socket is read on until a complete response (which settles the request; the
   * socket is dropped after it), its EOF or a reset (the request fails, the write error
   * as cause).
   */
  private writeFailed(open: Open, err: Error): void {
    // A write cancelled by our own destroy has no syscall: nothing to read on for.
    if (this.state !== State.Busy || (err as NodeJS.ErrnoException).syscall === undefined || !this.io.readOn()) return;
    open.error ??= err;
    open.readingOn = true;
  }

  /** The socket reported an error; its close follows (unless it is read on after a failed write). */
  errored(err: Error): void {
    const d = this.dialing;
    const open = this.open;
    if (d !== null) d.error ??= err;
    else if (open !== null) {
      open.error ??= err;
      // Node marked the read side failed as well, which would drop the bytes still to come and the EOF.
      if (open.readingOn) this.io.readOn();
    }
  }

  /** The server ended its side. */
  ended(): void {
    if (this.state === State.Busy) {
      // A close-delimited body ends here; anything else cut short is an error.
      this.parser.eof();
      if (this.settleCompleted(true)) return;
      const cause = this.open!.error;
      const perr = this.parser.error;
      return this.failOldest(
        perr !== null && !(perr instanceof ParseError && perr.parserCode === 'HPE_INVALID_EOF_STATE')
          ? perr
          : cause === null
            ? new SocketError('the server closed the connection before the response was complete', { cause: perr ?? undefined })
            : new SocketError(`the connection failed before the response was complete: ${cause.message}`, { cause }),
        true,
      );
    }
    // While connecting, 'error' (with the reason) and 'close' follow; report there.
    if (this.state !== State.Connecting) this.closed();
  }

  /** The socket closed. */
  closed(): void {
    if (this.state === State.Connecting) {
      const err = this.dialing!.error;
      // A proxy's refusal or an unreachable proxy comes worded already (conn/proxy.ts).
      if (err instanceof HttpClientPoolError) return this.failDial(err);
      const ctx = { cause: err ?? undefined };
      const detail = err?.message ?? 'socket closed';
      this.failDial(this.dialing!.tls ? new TLSError(`TLS handshake failed: ${detail}`, ctx) : new ConnectError(`connect failed: ${detail}`, ctx));
    } else if (this.state === State.Busy) {
      const err = this.open!.error;
      const reason = err === null ? 'the connection closed' : `the connection failed: ${err.message}`;
      this.failOldest(new SocketError(`${reason} before the response was complete`, { cause: err ?? undefined }), true);
    } else {
      // An idle socket closed by the server: nothing to report; but one closed just after
      // its first response says how this peer treats keep-alive.
      const open = this.open;
      if (this.state === State.Idle && open !== null && open.served === 1 && this.io.now() - this.keptAt < CLOSES_EACH_WINDOW_MS) this.closesEach = true;
      this.teardown();
    }
  }

  // ---- what the stats and errors raised from outside need

  /** The phase of the slot's oldest request, for errors raised from outside (abort, whole-request timeout). */
  get phase(): Phase {
    switch (this.state) {
      case State.Connecting:
        return this.dialing!.tls ? 'tls' : 'dial';
      case State.Busy:
        return this.inflight.length !== 0 && this.inflight.at(0).seq >= this.open!.flushed ? 'write' : this.parser.headComplete ? 'body' : 'headers';
      default:
        return this.deferred !== null ? 'write' : 'queue';
    }
  }

  /** Phase of a particular request on this slot (a pipelined one behind the oldest waits for its head). */
  phaseOf(req: Request): Phase {
    if ((this.inflight.length !== 0 && this.inflight.at(0) === req) || this.state !== State.Busy) return this.phase;
    return req.seq >= this.open!.flushed ? 'write' : 'headers';
  }

  // ---- connecting

  private established(): void {
    const { config } = this;
    this.dialing = null;
    this.connects++;
    const age = config.maxConnAge;
    // ±10% jitter, so sockets dialed together do not all recycle together.
    this.open = new Open(this.io.now(), age > 0 ? age * (0.9 + Math.random() * 0.2) : 0);
    this.state = State.Idle;
    this.clearTimer();
    this.parser.reset();
    this.io.usable();
    this.owner.connected(this.id);
    if (this.inflight.length !== 0) this.send(this.inflight.at(0));
    else this.goIdle(config.idleConnTimeout);
    // With pipelining, requests that queued while this socket was connecting can join it now.
    this.owner.wake();
  }

  private failDial(err: HttpClientPoolError): void {
    this.errors++;
    this.failedDials++;
    const req = this.inflight.length === 0 ? null : this.inflight.shift()!;
    const rest = this.takeAll();
    this.teardown();
    if (req !== null) req.slot = null;
    this.owner.dialFailed(this.id, req, this.decorate(err));
    if (rest.length !== 0) this.owner.requeue(rest);
    this.owner.wake();
  }

  // ---- requests and responses

  private send(req: Request): void {
    if (req === this.deferred) this.cancelDeferred(); // deferred, then sent from a re-dial that came first
    const open = this.open!;
    if (req.streamed !== null && req.streamed.length < 0 && open.http10) return this.refuseChunked(req);
    if (requestStartChannel.hasSubscribers && !this.announce(req)) return;
    if (this.state === State.Idle) this.clearTimer();
    this.state = State.Busy;
    req.reused = open.served > 0 || open.sent > 0;
    req.written = true;
    if (!open.retiring && (this.closesEach || this.pastLimits(open))) {
      // Recycling: this is the socket's last request; it tells the server so, and the
      // socket closes after its response. Nothing fails or is resent because of it.
      open.retiring = true;
      if (!req.closeAfter) req.head = withConnectionClose(req.head);
    }
    req.seq = open.sent++;
    this.parser.expect(req.bodiless, req.streams, req.upgrade);
    if (req.streamed !== null) {
      this.io.upload(req);
      if (req.streamed.expectContinue) {
        this.awaitingContinue = true;
        this.continuesSeen = this.parser.continues;
        if (this.config.expectContinueTimeout > 0) this.setTimer(Timer.Continue, this.config.expectContinueTimeout);
      } else this.startWriteTimer();
    } else if (this.io.write(req.head, req.body)) this.written(null);
    else this.startWriteTimer();
  }

  /**
   * Publishes `request-start` for `req` before anything of it is written or any state
   * changed for it, so that a subscriber may abort it (or destroy the pool) then and
   * there: its withdraw finds nothing written, and the socket serves on. False: it is no
   * longer this slot's to send.
   */
  private announce(req: Request): boolean {
    const outer = this.announcing; // a subscriber's abort may have sent the next request from inside
    this.announcing = req;
    requestStartChannel.publish({ request: req.info, socketId: this.id });
    this.announcing = outer;
    if (req.slot === this && this.open !== null) return true;
    // Taken back unsent: an idle socket goes on idling (established() cleared its timer).
    if (this.state === State.Idle && this.inflight.length === 0 && this.timer === Timer.None) this.goIdle(this.config.idleConnTimeout);
    return false;
  }

  /** The request whose `request-start` is being published (see announce). */
  private announcing: Request | null = null;

  /**
   * A request is being written and the kernel has not taken all of it: the write timer
   * runs (unless another phase's timer does) and, each time it is due, checks that bytes
   * left meanwhile; a server that stopped reading fails the request.
   */
  private startWriteTimer(): void {
    if (this.timer !== Timer.None) return;
    this.sentAtArm = this.io.bytesSent();
    this.setTimer(Timer.Write, this.config.writeTimeout);
  }

  /** What the kernel had taken when the write timer was last armed. */
  private sentAtArm = 0;

  /** An HTTP/1.0 peer cannot take a chunked body: the request fails before anything of it is written. */
  private refuseChunked(req: Request): void {
    // The socket stays idle (its idle timer runs on): nothing was written on it.
    this.inflight.shift();
    req.slot = null;
    this.errors++;
    req.fail(this.decorate(new RequestBodyError('the server speaks HTTP/1.0, which cannot take a chunked request body: give it a content-length', {}), 'write'));
    this.hold();
    this.owner.wake();
  }

  /** The streamed body of the request being written cannot be sent as declared: it fails, and the half-sent socket is dropped. */
  uploadFailed(err: HttpClientPoolError): void {
    if (this.state !== State.Busy || this.inflight.length === 0) return;
    this.failOldest(err, false);
  }

  /**
   * The response-head timer covers the oldest unanswered request, from when it is
   * fully written (or, pipelined, from when the response before it completed) to the
   * end of its response head.
   */
  private maybeStartHeadTimer(): void {
    if (this.state !== State.Busy || this.timer !== Timer.None || this.inflight.length === 0) return;
    if (this.inflight.at(0).seq < this.open!.flushed && !this.parser.headComplete) this.setTimer(Timer.Headers, this.frontTimeout(true));
  }

  /** The response head (true) or body-gap timeout of the request being answered (each request carries its own). */
  private frontTimeout(head: boolean): number {
    const own = this.inflight.length === 0 ? -1 : head ? this.inflight.at(0).headersTimeout : this.inflight.at(0).bodyTimeout;
    return own >= 0 ? own : head ? this.config.responseHeaderTimeout : this.config.bodyTimeout;
  }

  /** The parser's count of final heads when last looked at (see afterParse). */
  private headsSeen = 0;
  /** The request being written holds its body back for a 100 Continue. */
  private awaitingContinue = false;
  /** The parser's count of 100 heads when the wait began. */
  private continuesSeen = 0;

  /** Bytes arrived while a response is due? Otherwise they are nobody's and the socket is dropped. */
  private expectingBytes(): boolean {
    if (this.state === State.Busy) return true;
    // Bytes nobody asked for: they must never be read as the next request's response.
    this.teardown();
    return false;
  }

  private afterParse(): void {
    const p = this.parser;
    if (p.heads !== this.headsSeen) {
      // Heads arrived: the response-head timer is done with; subscribers hear of them now
      // that llhttp has returned (one of them may destroy the pool).
      const n = p.heads - this.headsSeen;
      this.headsSeen = p.heads;
      if (this.timer === Timer.Headers) this.clearTimer();
      if (this.awaitingContinue) {
        // A final answer instead of the 100: the body is never sent, and the socket goes after this response.
        this.awaitingContinue = false;
        if (this.timer === Timer.Continue) this.clearTimer();
      }
      if (responseHeadersChannel.hasSubscribers) this.publishHeads(n);
      if (this.state !== State.Busy) return;
    }
    if (this.awaitingContinue && p.continues !== this.continuesSeen) {
      this.awaitingContinue = false;
      if (this.timer === Timer.Continue) this.clearTimer();
      this.io.uploadGo();
      this.startWriteTimer();
    }
    if (this.settleCompleted(false)) return;
    if (p.error !== null) this.failOldest(p.error, false);
    else if (p.unasked) this.dropSocket(null, p.responseBegun());
    else if (p.headComplete) this.bodyRead();
  }

  /** The response-headers events of the `n` heads the last feed parsed. */
  private publishHeads(n: number): void {
    // Heads of responses already complete come first, in order; the one still being read last.
    const p = this.parser;
    const done = p.done.length;
    const inProgress = p.headComplete ? 1 : 0;
    for (let k = done + inProgress - n; k < done + inProgress; k++) {
      if (k < 0 || k >= this.inflight.length) continue;
      const res = k < done ? p.done.at(k) : p.current!;
      if (isStreamedHead(res)) continue; // published as it is handed over (streamTo)
      responseHeadersChannel.publish({ request: this.inflight.at(k).info, socketId: this.id, statusCode: res.statusCode, rawHeaders: res.rawHeaders });
      if (this.state === State.Closed) return;
    }
  }

  /**
   * Bytes of a body that is not complete yet were read: the body timer runs (again)
   * from now. A body that arrives with its head in one read never arms it.
   */
  private bodyRead(): void {
    const t = this.timer;
    if (t === Timer.None || t === Timer.Body) this.setTimer(Timer.Body, this.frontTimeout(false));
  }

  /**
   * Completes the responses the parser finished, oldest first, one at a time: a
   * dispatched request first gets its head and body pieces (its handler runs here, and
   * may pause, abort or destroy); then, with the slot's state settled (the socket kept
   * for the next request or idle, or dropped), the request settles. True when any
   * completed, or the slot moved on (paused or dropped): the caller has nothing more to do.
   */
  private settleCompleted(socketEnded: boolean): boolean {
    const p = this.parser;
    let settled = false;
    while (this.state === State.Busy && this.inflight.length !== 0) {
      const req = this.inflight.at(0);
      if (req.streams && !this.streamTo(req)) return settled || this.state !== State.Busy || req.paused;
      if (p.done.length === 0) break;
      const res = p.done.shift()!;
      const trailers = req.streams ? this.takeEnd() : null;
      const open = this.open!;
      this.inflight.shift();
      req.slot = null;
      // A pause was this request's: it may have ended paused (its last piece filled the
      // caller's buffer); the socket reads again for whatever comes next.
      this.startReads();
      open.served++;
      this.requests++;
      settled = true;
      // A response that came before its request was fully written ends the socket's use.
      const ended = socketEnded || req.seq >= open.flushed || req.closeAfter;
      // Another response after this one means the server kept the connection open for it.
      const last = p.done.length === 0;
      if (ended || open.readingOn || (last && (!p.keepAlive || p.unasked)) || (open.retiring && this.inflight.length === 0)) {
        // The socket carries nothing more (or was recycled after its last answer): the
        // answered one settles, then requests behind it that were never answered go back
        // to the origin (unless a settle callback destroyed the pool).
        const begun = p.responseBegun();
        this.settle(req, res, trailers);
        if ((this.state as State) !== State.Closed) this.dropSocket(null, begun);
        return true;
      }
      if (this.inflight.length === 0) {
        const idleMs = idleTime(this.config.idleConnTimeout, p.keepAliveHint);
        if (idleMs < 0) {
          this.teardown();
          this.settle(req, res, trailers);
          this.owner.wake();
          return true;
        }
        this.state = State.Idle;
        this.clearTimer();
        this.keptAt = this.io.now();
        open.http10 = res.httpVersion === '1.0';
        this.settle(req, res, trailers);
        this.owner.wake();
        // The idle timer and the unref are for a socket that stays idle: under load the
        // origin's queue hands it the next request at once, and neither is needed.
        if (this.state === State.Idle && this.inflight.length === 0) this.goIdle(idleMs);
        return true;
      }
      // Pipelined: the next request's head timer runs from here.
      this.clearTimer();
      this.maybeStartHeadTimer();
      this.settle(req, res, trailers);
    }
    if (settled) this.owner.wake();
    return settled;
  }

  /** A request's response is complete: a buffered one gets it whole, a dispatched one its end. */
  private settle(req: Request, res: Response, trailers: readonly string[] | null): void {
    if (trailers === null) req.succeed(res);
    else req.responseEnd(trailers, this.streamedBytes);
  }

  /** Body bytes handed to the dispatched request at the front so far. */
  private streamedBytes = 0;

  /**
   * Hands `req` (the front request, dispatched) the head and body pieces parsed for it.
   * True when its end is next; false when more bytes are needed, or it paused, or the
   * slot moved on under its handler (aborted, dropped, destroyed).
   */
  private streamTo(req: Request): boolean {
    const p = this.parser;
    const events = p.events;
    while (events.length !== 0) {
      const kind = events.at(0);
      if (kind === StreamEvent.End) return true;
      if (req.paused) {
        // What waits may be views into the read buffer: no read may come before it is handed over.
        this.stopReads();
        return false;
      }
      events.shift();
      const arg = p.eventArgs.shift()!;
      if (kind === StreamEvent.Upgrade) {
        this.handOver(req, arg as number, p.eventArgs.shift() as string[], p.eventArgs.shift() as string);
        return false;
      }
      if (kind === StreamEvent.Head) {
        this.streamedBytes = 0;
        const statusCode = arg as number;
        const rawHeaders = p.eventArgs.shift() as string[];
        const statusMessage = p.eventArgs.shift() as string;
        if (responseHeadersChannel.hasSubscribers) responseHeadersChannel.publish({ request: req.info, socketId: this.id, statusCode, rawHeaders });
        req.responseStart(statusCode, rawHeaders, statusMessage);
      } else {
        const chunk = arg as Buffer;
        this.streamedBytes += chunk.length;
        req.responseData(chunk);
      }
      if (this.state !== State.Busy || this.inflight.length === 0 || this.inflight.at(0) !== req) return false;
    }
    return false;
  }

  /**
   * The connection switched protocols for `req` (the front request): the socket leaves
   * the slot without being closed and goes to the request's handler, with the bytes that
   * came after the head; the slot is dead, and dials again for its next request.
   */
  private handOver(req: Request, statusCode: number, rawHeaders: string[], _statusMessage: string): void {
    if (responseHeadersChannel.hasSubscribers) responseHeadersChannel.publish({ request: req.info, socketId: this.id, statusCode, rawHeaders });
    this.inflight.shift();
    req.slot = null;
    this.requests++;
    this.open!.served++;
    // An upgrade request is never pipelined; anything behind it waits for another socket.
    const rest = this.takeAll();
    this.clearTimer();
    this.awaitingContinue = false;
    const socket = this.io.detach(this.parser.upgradeRest);
    this.dialing = null;
    this.open = null;
    if (this.state !== State.Closed) this.state = State.Dead;
    this.owner.emptied(this.id);
    if (rest.length !== 0) this.owner.requeue(rest);
    req.upgradedTo(statusCode, rawHeaders, socket);
    this.owner.wake();
  }

  /** The End event of the front request's response, taken from the parser; its trailers. */
  private takeEnd(): readonly string[] {
    this.parser.events.shift();
    return this.parser.eventArgs.shift() as readonly string[];
  }

  /**
   * The caller paused (or resumed) reading the response of `req`: the socket stops (or
   * goes on) reading, and the body timer with it. On resume, what was parsed already is
   * handed over first, after the current call returned.
   */
  pause(req: Request, paused: boolean): void {
    if (this.state !== State.Busy || this.inflight.length === 0 || this.inflight.at(0) !== req) {
      // Not (yet) the response being read: it pauses when it is.
      return;
    }
    if (paused) {
      this.stopReads();
      if (this.timer === Timer.Body) this.clearTimer();
    } else {
      this.startReads();
      queueMicrotask(this.resumed);
    }
  }

  private stopReads(): void {
    this.open!.readsStopped = true;
    this.io.readStop();
  }

  private startReads(): void {
    const open = this.open;
    if (open === null || !open.readsStopped) return;
    open.readsStopped = false;
    this.io.readStart();
  }

  /** After a resume: hand over what waited, then go on as after a read. */
  private resumed = (): void => {
    if (this.state !== State.Busy) return;
    this.afterParse();
  };

  /**
   * Fails the oldest request on this socket and drops the socket. `maybeRetry`: the
   * socket broke (reset, EOF) rather than timing out or sending garbage; a request
   * that saw no response byte on a reused socket is then resent once on a fresh one,
   * if its method is idempotent or none of it had been written. Requests pipelined
   * behind it are resent (if safe) or failed by dropSocket().
   */
  private failOldest(err: HttpClientPoolError, maybeRetry: boolean): void {
    const req = this.inflight.shift();
    if (req === undefined) return this.teardown();
    req.slot = null;
    const phase: Phase = this.parser.headComplete ? 'body' : 'headers';
    const retry = maybeRetry && req.mayResend(this.parser.responseBegun());
    this.dropSocket(retry ? req : null, false, true);
    if (!retry) {
      this.errors++;
      req.fail(this.decorate(err, phase));
    }
    this.owner.wake();
  }

  /**
   * Drops the socket with requests still on it: those that got no byte of response
   * and are safe to resend (idempotent, not resent before) go back to the origin ahead
   * of the queue, in order (`first` leading); the others fail. `oldestBegun`: bytes
   * of an answer to the oldest of them arrived, so it is never sent again. `quiet`:
   * the caller wakes the origin itself.
   */
  private dropSocket(first: Request | null, oldestBegun: boolean, quiet = false): void {
    const rest = this.takeAll();
    const headComplete = this.parser.headComplete;
    this.teardown();
    const again: Request[] = [];
    if (first !== null) {
      first.retried = true;
      again.push(first);
    }
    for (let i = 0; i < rest.length; i++) {
      const req = rest[i]!;
      const oldest = i === 0 && first === null;
      if (req.mayResendUnanswered(oldest && oldestBegun)) {
        req.retried = true;
        again.push(req);
      } else {
        this.errors++;
        const message = oldest
          ? 'the connection was closed before the response to this request was complete'
          : 'the connection was closed before this pipelined request was answered';
        req.fail(this.decorate(new SocketError(message, {}), oldest && oldestBegun && headComplete ? 'body' : 'headers'));
      }
    }
    if (again.length !== 0) this.owner.requeue(again);
    if (!quiet) this.owner.wake();
  }

  private takeAll(): Request[] {
    const all = this.inflight.takeAll();
    for (const req of all) req.slot = null;
    return all;
  }

  /** Drops the socket; the slot goes Dead (or stays Closed). */
  private teardown(): void {
    this.clearTimer();
    this.awaitingContinue = false;
    const had = this.dialing !== null || this.open !== null;
    if (had) this.io.close();
    this.dialing = null;
    this.open = null;
    if (this.state === State.Closed) return;
    this.state = State.Dead;
    if (had) this.owner.emptied(this.id);
  }

  private goIdle(ms: number): void {
    this.setTimer(Timer.Idle, ms);
    this.hold();
  }

  /** Past `maxRequestsPerConn` (counting this request) or `maxConnAge`: time to recycle the socket. */
  private pastLimits(open: Open): boolean {
    const { maxRequestsPerConn } = this.config;
    if (maxRequestsPerConn > 0 && open.sent + 1 >= maxRequestsPerConn) return true;
    return open.ageLimit > 0 && this.io.now() - open.connectedAt >= open.ageLimit;
  }

  private setTimer(timer: Timer, ms: number): void {
    this.timer = ms > 0 ? timer : Timer.None;
    this.io.arm(ms);
  }

  private clearTimer(): void {
    if (this.timer === Timer.None) return;
    this.timer = Timer.None;
    this.io.disarm();
  }

  private decorate(err: HttpClientPoolError, phase?: Phase): HttpClientPoolError {
    err.origin ??= this.origin;
    err.socketId ??= this.id;
    err.phase ??= phase;
    return err;
  }
}

/** A copy of `err` for another request (each rejection carries its own context). */
function cloneError(err: HttpClientPoolError): HttpClientPoolError {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as HttpClientPoolError;
  return Object.assign(copy, err, { message: err.message, stack: err.stack });
}
