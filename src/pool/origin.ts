// The N socket slots of one origin, their round-robin choice and their wait queue.
// A request goes to the next free slot in round-robin order; when none is free it
// waits in FIFO order and takes the first slot that frees.
import { Connection, State, type Exchange, type SlotOwner } from '../conn/connection.js';
import { makeTLSOptions, SessionCache, type Endpoint } from '../conn/dial.js';
import type { HttpClientPoolError } from '../errors.js';
import type { Body, Config } from '../options.js';
import { isIdempotent, RequestEncoder } from '../parser/request.js';
import type { Response } from '../response.js';
import type { Call } from './call.js';
import { abortedAtCall, type Origin } from './client.js';
import { RoundRobin } from './choose.js';
import { isIP } from 'node:net';
import { AddressBook } from '../conn/addresses.js';
import { Queue } from './queue.js';
import { PendingRequest, type RequestOwner } from './request.js';
import { socketStats, type OriginStats } from './stats.js';
import type { Target } from './target.js';
import { connectChannel, connectErrorChannel, publishConnect } from '../diagnostics.js';

export class OriginPool implements Origin, SlotOwner, RequestOwner {
  readonly config: Config;
  readonly endpoint: Endpoint;
  readonly sessions = new SessionCache();
  readonly addresses: AddressBook | null;
  readonly encoder: RequestEncoder;
  readonly origin: string;
  readonly conns: Connection[] = [];
  readonly queue = new Queue<PendingRequest>();

  private readonly rr = new RoundRobin();
  /** Requests started and not yet settled. */
  private active = 0;
  private closing = false;
  private onDrained: (() => void) | null = null;
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Set by the client for an origin it may forget; see `sweep()`. */
  onUnused: ((o: Origin) => void) | null = null;
  private sweepQueued = false;

  constructor(target: Target, config: Config) {
    this.config = config;
    this.origin = target.origin;
    this.endpoint = {
      origin: target.origin,
      hostname: target.hostname,
      port: target.port,
      socketPath: config.socketPath,
      tls: target.secure ? makeTLSOptions(target.hostname, config.tls, config.insecureSkipVerify) : null,
    };
    this.encoder = new RequestEncoder(target.hostHeader, config.headers);
    // A host name may stand for several backends: spread the slots over its addresses.
    this.addresses =
      config.socketPath === undefined && isIP(target.hostname) === 0
        ? new AddressBook(target.hostname, config.lookup, config.dnsRefreshInterval, () => this.recycleAll())
        : null;
    for (let i = 0; i < config.size; i++) this.conns.push(new Connection(i, this));
    this.sweep = this.sweep.bind(this);
  }

  /** Dials every slot up front, so traffic spreads from the first request on. */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.addresses?.start();
    for (const c of this.conns) c.connect();
  }

  private opened = false;

  send(method: string, call: Call, body: Body | null | undefined): Promise<Response> {
    const req = new PendingRequest(method, call.path, method === 'HEAD', isIdempotent(method), call.signal, call.timeoutMs);
    this.encoder.encode(req, method, call.path, call.headers, body);
    req.pipelinable = req.retryable && !req.closeAfter;
    if (call.signal?.aborted) throw abortedAtCall(this.origin, call.signal);
    this.open();
    this.active++;
    req.start(this);
    if (!req.settled) this.route(req);
    return req.promise;
  }

  /** Resolves when every slot has a connected socket; dials the slots that have none. */
  ready(): Promise<void> {
    if (this.closing) return Promise.resolve();
    for (const c of this.conns) c.connect();
    if (this.allConnected()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.readyWaiters.push({ resolve, reject });
      if (this.readyWaiters.length === 1) this.holdAll();
    });
  }

  /** Refuses nothing itself (the Pool does), lets every started request settle, then closes the sockets. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.onDrained = resolve;
      this.maybeDrained();
    });
  }

  /** Fails every queued and in-flight request with `err` and closes the sockets at once. */
  destroy(reason: () => HttpClientPoolError): void {
    this.closing = true;
    this.addresses?.stop();
    for (let req = this.queue.shift(); req !== null; req = this.queue.shift()) {
      const err = reason();
      err.origin ??= this.origin;
      err.phase ??= 'queue';
      req.fail(err);
    }
    for (const c of this.conns) c.destroy(c.inflight.length === 0 ? null : reason());
    this.rejectReady(reason());
    this.maybeDrained();
  }

  stats(now: number): OriginStats {
    return { origin: this.origin, queued: this.queue.length, sockets: this.conns.map((c) => socketStats(c, now)) };
  }

  // ---- RequestOwner

  unqueue(req: PendingRequest): void {
    this.queue.remove(req);
  }

  settled(_req: PendingRequest): void {
    this.active--;
    if (this.closing) this.maybeDrained();
    else if (this.active === 0 && this.onUnused !== null) this.emptied();
  }

  // ---- SlotOwner

  get awaited(): boolean {
    return this.readyWaiters.length !== 0;
  }

  /** A slot lost its socket, or the last request settled: maybe nothing is left of the origin. */
  emptied(): void {
    if (this.sweepQueued || this.onUnused === null || this.closing || !this.unused()) return;
    // Decided after the current callback: the slot may dial again at once (recycling), and
    // a caller answered just now may be sending to this origin again.
    this.sweepQueued = true;
    queueMicrotask(this.sweep);
  }

  released(conn: Connection): void {
    // Fill the slot from the head of the queue: one request, or with pipelining as
    // many as its pipeline takes. FIFO: a head that cannot go here stops the filling.
    for (let next = this.queue.peek(); next !== null; next = this.queue.peek()) {
      if (next.aborted) {
        // Its signal already fired (one signal shared with the request that just left):
        // it settles as aborted in the queue rather than taking the slot.
        this.queue.shift();
        next.handleEvent();
        continue;
      }
      if (!conn.canTake(next)) return;
      this.queue.shift();
      conn.dispatch(next);
    }
  }

  resend(exs: Exchange[]): void {
    // Ahead of the queue, in their original order; then onto slots that can take them.
    for (let i = exs.length - 1; i >= 0; i--) this.queue.unshift(exs[i] as PendingRequest);
    for (const c of this.conns) {
      if (this.queue.length === 0) break;
      this.released(c);
    }
  }

  connected(conn: Connection): void {
    this.addresses?.succeeded(conn.id);
    if (connectChannel.hasSubscribers) publishConnect(this.origin, conn.id, conn.liveSocket, this.endpoint.tls !== null);
    if (this.readyWaiters.length !== 0 && this.allConnected()) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w.resolve();
      this.holdAll();
    }
  }

  /** Recycles every socket (the host's addresses changed): none fails, each re-dials after its current work. */
  recycleAll(): void {
    if (this.closing) return;
    for (const c of this.conns) c.recycle();
  }

  dialFailed(conn: Connection, ex: Exchange | null, err: HttpClientPoolError): void {
    this.addresses?.failed(conn.id);
    if (connectErrorChannel.hasSubscribers) connectErrorChannel.publish({ origin: this.origin, socketId: conn.id, error: err });
    this.rejectReady(err);
    if (ex !== null) {
      const req = ex as PendingRequest;
      // Nothing was sent, so any method may move to another slot; give up once every slot failed it.
      if (++req.dialFailures >= this.conns.length || this.closing) req.fail(err);
      else this.route(req, true);
    }
    this.released(conn);
  }

  // ----

  private route(req: PendingRequest, first = false): void {
    // Strict FIFO: nothing overtakes a request already waiting.
    if (this.queue.length !== 0 && !first) return this.queue.push(req);
    const i = this.rr.pick(this.conns, req);
    if (i >= 0) this.conns[i]!.dispatch(req);
    else if (first) this.queue.unshift(req);
    else this.queue.push(req);
  }

  private allConnected(): boolean {
    for (const c of this.conns) if (c.state !== State.Idle && c.state !== State.Busy) return false;
    return true;
  }

  private rejectReady(err: Error): void {
    const waiters = this.readyWaiters;
    if (waiters.length === 0) return;
    this.readyWaiters = [];
    for (const w of waiters) w.reject(err);
    this.holdAll();
  }

  /** A `ready()` began or ended waiting: the connecting sockets hold the process only meanwhile. */
  private holdAll(): void {
    for (const c of this.conns) c.hold();
  }

  /** No socket, and nothing queued, in flight, dialing or awaited. */
  private unused(): boolean {
    if (this.active !== 0 || this.queue.length !== 0 || this.readyWaiters.length !== 0) return false;
    for (const c of this.conns) if (c.state !== State.Dead && c.state !== State.Closed) return false;
    return true;
  }

  /** Forgets the origin if it is still unused: its slots close for good and its refresh timer stops. */
  private sweep(): void {
    this.sweepQueued = false;
    const forget = this.onUnused;
    if (forget === null || this.closing || !this.unused()) return;
    this.closing = true;
    this.addresses?.stop();
    for (const c of this.conns) c.destroy(null);
    forget(this);
  }

  private maybeDrained(): void {
    if (this.active !== 0 || this.onDrained === null) return;
    this.addresses?.stop();
    for (const c of this.conns) c.destroy(null);
    const done = this.onDrained;
    this.onDrained = null;
    done();
  }
}
