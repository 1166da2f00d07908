// The `size` slots of one origin in NodePool, each an http(s).Agent, chosen
// round-robin like the raw pool's sockets, with the same FIFO wait queue.
import type * as http from 'node:http';
import type * as net from 'node:net';
import { isIP, type LookupFunction } from 'node:net';
import { AddressBook } from '../conn/addresses.js';
import { idleTime } from '../keep-alive.js';
import { makeTLSOptions, SessionCache, type Endpoint } from '../conn/dial.js';
import type { HttpClientPoolError } from '../errors.js';
import type { Body, Config, Headers } from '../options.js';
import { isIdempotent, RequestEncoder, type Encoded } from '../parser/request.js';
import type { Response } from '../response.js';
import type { Call } from '../pool/call.js';
import { RoundRobin } from '../pool/choose.js';
import { abortedAtCall, type Origin } from '../pool/client.js';
import { Queue } from '../pool/queue.js';
import { SlotCounters } from '../conn/counters.js';
import type { OriginStats, SocketStats } from '../pool/stats.js';
import type { Target } from '../pool/target.js';
import { createAgent, type SlotSockets, type SocketInfo } from './agent.js';
import { NodeExchange, type ExchangeOwner, type NodeSlot } from './exchange.js';

class Slot extends SlotCounters implements NodeSlot, SlotSockets {
  readonly agent: http.Agent;
  readonly lookup: LookupFunction | undefined;
  readonly sockets = new Map<net.Socket, SocketInfo>();
  inFlight = 0;
  closed = false;

  constructor(
    readonly id: number,
    readonly endpoint: Endpoint,
    readonly config: Config,
    readonly sessions: SessionCache,
    private readonly book: AddressBook | null,
    private readonly emptied: () => void,
  ) {
    super();
    this.lookup = book?.lookupFor(id);
    this.agent = createAgent(this, config.maxConnsPerHost);
    // A socket the agent keeps for reuse gets the same idle rule as the raw pool's.
    this.agent.on('free', (socket: net.Socket) => {
      const info = this.sockets.get(socket);
      if (info === undefined || socket.destroyed || !parked(this.agent, socket)) return; // handed straight to a waiting request
      const ms = idleTime(config.idleConnTimeout, info.hint);
      if (ms < 0) socket.destroy();
      else info.set('idle', ms);
    });
  }

  canTake(): boolean {
    return !this.closed && this.inFlight < this.config.maxConnsPerHost;
  }

  connectedOk(): void {
    this.book?.succeeded(this.id);
  }

  override socketGone(s: net.Socket): void {
    super.socketGone(s);
    if (this.sockets.size === 0) this.emptied();
  }

  info(socket: net.Socket): SocketInfo | undefined {
    return this.sockets.get(socket);
  }

  stats(now: number): SocketStats {
    // A slot may hold several sockets (maxConnsPerHost); report the addresses of the first.
    let first: SocketInfo | undefined;
    let bytesIn = this.bytesInClosed;
    let bytesOut = this.bytesOutClosed;
    for (const info of this.sockets.values()) {
      if (!info.socket.destroyed && !info.socket.writableEnded) first ??= info; // a socket node is closing is gone
      bytesIn += info.socket.bytesRead;
      bytesOut += info.socket.bytesWritten;
    }
    const s = first?.socket;
    return {
      id: this.id,
      state: this.closed ? 'closed' : this.inFlight > 0 ? 'busy' : first === undefined ? 'dead' : first.phase === 'open' ? 'idle' : 'connecting',
      localAddress: s?.localAddress ?? null,
      localPort: s?.localPort ?? null,
      remoteAddress: s?.remoteAddress ?? null,
      remotePort: s?.remotePort ?? null,
      requests: this.requests,
      inFlight: this.inFlight,
      bytesIn,
      bytesOut,
      reconnects: Math.max(0, this.dials - 1),
      errors: this.errors,
      ageMs: first === undefined ? 0 : now - first.openedAt,
    };
  }
}

function parked(agent: http.Agent, socket: net.Socket): boolean {
  for (const list of Object.values(agent.freeSockets)) if (list?.includes(socket)) return true;
  return false;
}

export class NodeOrigin implements Origin, ExchangeOwner {
  readonly origin: string;
  readonly secure: boolean;
  readonly requestOptions: http.RequestOptions;
  readonly responseHeaderTimeout: number;
  readonly bodyTimeout: number;
  readonly idleConnTimeout: number;
  readonly maxResponseSize: number;
  private readonly config: Config;
  private readonly encoder: RequestEncoder;
  private readonly slots: Slot[] = [];
  private readonly queue = new Queue<NodeExchange>();
  private readonly rr = new RoundRobin();
  private readonly scratch: Encoded = { head: Buffer.alloc(0), body: null, closeAfter: false };
  private active = 0;
  private closing = false;
  private onDrained: (() => void) | null = null;
  /** Set by the client for an origin it may forget; see `sweep()`. */
  onUnused: ((o: Origin) => void) | null = null;
  private sweepQueued = false;

  constructor(target: Target, config: Config) {
    this.config = config;
    this.origin = target.origin;
    this.secure = target.secure;
    this.responseHeaderTimeout = config.responseHeaderTimeout;
    this.bodyTimeout = config.bodyTimeout;
    this.idleConnTimeout = config.idleConnTimeout;
    this.maxResponseSize = config.maxResponseSize;
    this.requestOptions = {
      host: target.hostname,
      port: target.port,
      maxHeaderSize: config.maxHeaderSize,
      setHost: false,
    };
    this.encoder = new RequestEncoder(target.hostHeader, config.headers);
    const endpoint: Endpoint = {
      origin: target.origin,
      hostname: target.hostname,
      port: target.port,
      socketPath: config.socketPath,
      tls: target.secure ? makeTLSOptions(target.hostname, config.tls, config.insecureSkipVerify) : null,
    };
    const sessions = new SessionCache();
    // Slot i dials address i mod k of the host, like the raw pool. Sockets are not
    // recycled when the set changes: node:http agents keep their sockets.
    this.addresses = config.socketPath === undefined && isIP(target.hostname) === 0 ? new AddressBook(target.hostname, config.lookup, 0, noop) : null;
    const emptied = this.emptied.bind(this);
    for (let i = 0; i < config.size; i++) this.slots.push(new Slot(i, endpoint, config, sessions, this.addresses, emptied));
    this.hostHeader = target.hostHeader;
    this.sweep = this.sweep.bind(this);
  }

  private readonly hostHeader: string;
  private readonly addresses: AddressBook | null;

  send(method: string, call: Call, body: Body | null | undefined): Promise<Response> {
    // The raw pool's encoder is the one place that checks headers and bodies: both backends refuse the same calls.
    this.encoder.encode(this.scratch, method, call.path, call.headers, body);
    if (call.signal?.aborted) throw abortedAtCall(this.origin, call.signal);
    const { headers, payload } = this.requestParts(method, call.headers, body);
    const ex = new NodeExchange(this, method, call.path, headers, payload, isIdempotent(method), this.scratch.closeAfter, call.signal, call.timeoutMs);
    this.active++;
    ex.start();
    this.route(ex, false);
    return ex.promise;
  }

  /** node:http dials on demand: there is nothing to wait for. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.onDrained = resolve;
      this.maybeDrained();
    });
  }

  open(): void {
    // node:http dials on demand.
  }

  destroy(reason: () => HttpClientPoolError): void {
    this.closing = true;
    for (let ex = this.queue.shift(); ex !== null; ex = this.queue.shift()) {
      const err = reason();
      err.phase ??= 'queue';
      ex.fail(err);
    }
    for (const slot of this.slots) slot.closed = true;
    // Failing in-flight exchanges destroys their requests' sockets.
    for (const ex of [...this.inFlight]) ex.abortRequest(reason());
    this.closeSlots();
    this.maybeDrained();
  }

  stats(now: number): OriginStats {
    return { origin: this.origin, queued: this.queue.length, sockets: this.slots.map((s) => s.stats(now)) };
  }

  // ---- ExchangeOwner

  private readonly inFlight = new Set<NodeExchange>();

  unqueue(ex: NodeExchange): void {
    this.queue.remove(ex);
  }

  released(slot: NodeSlot): void {
    const s = slot as Slot;
    s.inFlight--;
    if (!s.canTake()) return;
    let next = this.queue.shift();
    // A queued request whose signal already fired settles as aborted in the queue, as in Pool.
    while (next !== null && next.aborted) {
      next.handleEvent();
      next = this.queue.shift();
    }
    if (next !== null) this.dispatch(s, next);
  }

  dialFailed(ex: NodeExchange, err: HttpClientPoolError): void {
    this.inFlight.delete(ex);
    const slot = this.slots[err.socketId ?? 0];
    if (slot !== undefined) slot.errors++;
    if (slot !== undefined) this.addresses?.failed(slot.id);
    if (++ex.dialFailures >= this.slots.length || this.closing) ex.fail(err);
    else this.route(ex, true);
  }

  settled(ex: NodeExchange): void {
    this.inFlight.delete(ex);
    this.active--;
    if (this.closing) this.maybeDrained();
    else if (this.active === 0 && this.onUnused !== null) this.emptied();
  }

  /** A slot's agent lost its last socket, or the last request settled: maybe nothing is left. */
  private emptied(): void {
    if (this.sweepQueued || this.onUnused === null || this.closing || !this.unused()) return;
    // Decided after the current callback, as in Pool: a caller answered just now may send again.
    this.sweepQueued = true;
    queueMicrotask(this.sweep);
  }

  /** No socket in any agent, and nothing queued or in flight. */
  private unused(): boolean {
    if (this.active !== 0 || this.queue.length !== 0) return false;
    for (const slot of this.slots) if (slot.sockets.size !== 0) return false;
    return true;
  }

  /** Forgets the origin if it is still unused; its agents are closed for good. */
  private sweep(): void {
    this.sweepQueued = false;
    const forget = this.onUnused;
    if (forget === null || this.closing || !this.unused()) return;
    this.closing = true;
    this.closeSlots();
    forget(this);
  }

  // ----

  private route(ex: NodeExchange, first: boolean): void {
    const i = this.rr.pick(this.slots, ex);
    if (i >= 0) this.dispatch(this.slots[i]!, ex);
    else if (first) this.queue.unshift(ex);
    else this.queue.push(ex);
  }

  private dispatch(slot: Slot, ex: NodeExchange): void {
    slot.inFlight++;
    this.inFlight.add(ex);
    ex.dispatch(slot);
  }

  /** Headers for node:http in the same order and form the raw pool writes them, and the body bytes. */
  private requestParts(method: string, given: Headers | undefined, body: Body | null | undefined): { headers: Record<string, string | string[]>; payload: Buffer | string | null } {
    const headers: Record<string, string | string[]> = {};
    const names = new Map<string, string>(); // lower-case -> name as given
    const put = (h: Headers): void => {
      for (const name of Object.keys(h)) {
        const v = h[name];
        if (v === undefined) continue;
        const lower = name.toLowerCase();
        const prev = names.get(lower);
        if (prev !== undefined) delete headers[prev];
        names.set(lower, name);
        headers[name] = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : [...v];
      }
    };
    put(this.config.headers);
    if (given !== undefined) put(given);
    if (!names.has('host')) headers['host'] = this.hostHeader;
    let payload: Buffer | string | null = null;
    if (body !== undefined && body !== null) {
      if (typeof body === 'string') payload = body;
      else if (body instanceof Uint8Array) payload = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      else {
        payload = JSON.stringify(body);
        if (!names.has('content-type')) headers['content-type'] = 'application/json';
      }
    }
    const cl = names.get('content-length');
    if (cl !== undefined) delete headers[cl];
    if (payload !== null) headers['content-length'] = String(Buffer.byteLength(payload));
    else if (method === 'POST' || method === 'PUT' || method === 'PATCH') headers['content-length'] = '0';
    return { headers, payload };
  }

  private closeSlots(): void {
    for (const slot of this.slots) {
      slot.closed = true;
      slot.agent.destroy();
    }
  }

  private maybeDrained(): void {
    if (this.active !== 0 || this.onDrained === null) return;
    this.closeSlots();
    const done = this.onDrained;
    this.onDrained = null;
    done();
  }
}

function noop(): void {}
