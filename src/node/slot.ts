// One NodePool slot: an http(s).Agent with keep-alive and `maxConnsPerHost` sockets,
// opened by our own dial code (agent.ts). It carries requests through node:http
// (exchange.ts) and reports to its origin like a raw slot does.
import type * as http from 'node:http';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { LookupFunction } from 'node:net';
import type { AddressBook } from '../conn/addresses.js';
import type { Endpoint, SessionCache } from '../conn/dial.js';
import type { Backend, SlotContext } from '../pool/origin.js';
import type { Request } from '../pool/request.js';
import { SlotCounters, type DestroyReason, type Slot, type SlotReports } from '../pool/slot.js';
import type { SocketStats } from '../pool/stats.js';
import { AbortError, ConnectError, HttpClientPoolError, RequestTimeoutError, TLSError, type Phase } from '../errors.js';
import { CLOSES_EACH_WINDOW_MS, idleTime } from '../keep-alive.js';
import type { Body, Config, Headers } from '../options.js';
import type { Response } from '../response.js';
import { createAgent, open, openProxied, type SlotSockets, type SocketInfo } from './agent.js';
import { NodeExchange, type ExchangeSlot, type FlatHeaders } from './exchange.js';

export class NodeSlot extends SlotCounters implements Slot, SlotSockets, ExchangeSlot {
  readonly agent: http.Agent;
  readonly lookup: LookupFunction | undefined;
  readonly sockets = new Map<net.Socket, SocketInfo>();
  readonly endpoint: Endpoint;
  readonly config: Config;
  readonly sessions: SessionCache;
  readonly secure: boolean;
  readonly requestOptions: http.RequestOptions;
  /** Before every path on the request line: the origin for requests to a proxy in absolute form, else ''. */
  readonly pathPrefix: string;
  /**
   * The socket `ready()` opened (`connect()`), until the agent takes it for a request
   * (createConnection) or it closes. node:http dials with a request; this is how a
   * slot connects ahead of one.
   */
  private spare: net.Socket | null = null;
  private spareError: ((err: Error) => void) | null = null;
  private readonly inFlight = new Set<NodeExchange>();
  private readonly book: AddressBook | null;
  private readonly reports: SlotReports;
  private closed = false;

  constructor(
    readonly id: number,
    ctx: SlotContext,
  ) {
    super();
    const { config, endpoint } = ctx;
    this.config = config;
    this.endpoint = endpoint;
    this.sessions = ctx.sessions;
    this.book = ctx.addresses;
    this.reports = ctx.reports;
    this.secure = endpoint.tls !== null;
    this.requestOptions = { host: endpoint.hostname, port: endpoint.port, maxHeaderSize: config.maxHeaderSize, setHost: false };
    this.pathPrefix = endpoint.proxy !== null && !endpoint.proxy.tunnel ? endpoint.origin : '';
    this.lookup = this.book?.lookupFor(id);
    this.agent = createAgent(this, config.maxConnsPerHost);
    // A socket the agent keeps for reuse gets the same idle rule as the raw pool's.
    this.agent.on('free', (socket: net.Socket) => {
      const info = this.sockets.get(socket);
      if (info !== undefined) info.freedAt = Date.now();
      if (info === undefined || socket.destroyed || !parked(this.agent, socket)) return; // handed straight to a waiting request
      const ms = idleTime(config.idleConnTimeout, info.hint);
      if (ms < 0) {
        info.ours = true;
        socket.destroy();
      } else info.set('idle', ms);
    });
  }

  // ---- Slot

  canTake(): boolean {
    return !this.closed && this.inFlight.size < this.config.maxConnsPerHost;
  }

  take(req: Request): void {
    const ex = exchangeOf(req);
    this.inFlight.add(ex);
    req.slot = this;
    ex.dispatch(this);
  }

  /** Has a connected socket (an idle or busy one of the agent's, or the spare). */
  get connected(): boolean {
    for (const info of this.sockets.values()) if (info.phase === 'open' && !info.socket.destroyed) return true;
    return false;
  }

  /**
   * Opens a socket ahead of any request (`ready()`), unless the slot has one, open or
   * opening: it reports `connected` or `dialFailed` as a raw slot does, and is the
   * agent's socket for the slot's next request.
   */
  connect(): void {
    if (this.closed || this.sockets.size !== 0) return;
    const route = this.endpoint.proxy;
    if (route === null) return this.keepSpare(open(this));
    // Through the proxy: the socket is the tunnel (or TLS over it), handed over once open.
    openProxied(this, route, (err, socket) => {
      if (err !== null) return this.spareFailed(err, 'dial');
      this.keepSpare(socket);
    });
  }

  /** `socket`, opened by connect(), waits for the slot's next request. */
  private keepSpare(socket: net.Socket): void {
    const info = this.sockets.get(socket)!;
    this.spare = socket;
    this.hold();
    const onError = (err: Error): void => {
      if (this.spare === socket) this.spare = null;
      if (info.phase === 'open') return; // closed while spare: the next request dials anew
      this.spareFailed(err, info.phase === 'tls' ? 'tls' : 'dial');
    };
    this.spareError = onError;
    socket.on('error', onError);
    socket.once('close', () => {
      if (this.spare === socket) this.spare = null;
    });
    // Connected and nobody took it yet: it waits as an idle socket does.
    if (info.phase === 'open') info.set('idle', this.config.idleConnTimeout);
    else socket.once(this.secure ? 'secureConnect' : 'connect', () => {
      if (this.spare === socket) info.set('idle', this.config.idleConnTimeout);
    });
  }

  /** The socket connect() opened failed before it was open: the origin hears of it as of a raw slot's failed dial. */
  private spareFailed(err: Error, phase: 'dial' | 'tls'): void {
    this.errors++;
    const ctx = { cause: err, origin: this.endpoint.origin, socketId: this.id };
    const e =
      err instanceof HttpClientPoolError
        ? err
        : phase === 'tls'
          ? new TLSError(`TLS handshake failed: ${err.message}`, ctx)
          : new ConnectError(`connect failed: ${err.message}`, ctx);
    e.origin ??= this.endpoint.origin;
    e.socketId ??= this.id;
    e.phase ??= phase;
    this.reports.dialFailed(this.id, null, e);
    this.reports.wake();
  }

  takeSpare(): net.Socket | null {
    const s = this.spare;
    this.spare = null;
    if (s === null || s.destroyed) return null;
    // From here its errors are the request's (node:http listens before any can come).
    if (this.spareError !== null) s.removeListener('error', this.spareError);
    this.spareError = null;
    const info = this.sockets.get(s);
    if (info?.phase === 'open') info.set(null, 0);
    s.ref();
    return s;
  }

  get vacant(): boolean {
    return this.sockets.size === 0 && this.inFlight.size === 0;
  }

  recycle(): void {
    // An agent keeps its sockets on its own terms: addresses are looked up again on re-dials only.
  }

  hold(): void {
    // node:http unrefs the sockets its agent keeps free, and refs them for a request; the
    // spare keeps the process alive only while a ready() waits for it.
    const s = this.spare;
    if (s === null) return;
    if (this.reports.awaited && this.sockets.get(s)?.phase !== 'open') s.ref();
    else s.unref();
  }

  destroy(reason: DestroyReason | null): void {
    this.closed = true;
    if (typeof reason === 'object' && reason !== null) {
      // The caller's own error: every request rejects with it, untouched.
      for (const ex of [...this.inFlight]) {
        this.inFlight.delete(ex);
        ex.request.slot = null;
        ex.drop();
        ex.request.fail(reason);
      }
    } else if (reason !== null) {
      for (const ex of [...this.inFlight]) {
        const err = reason();
        err.phase ??= ex.phase;
        ex.giveUp(err);
      }
    }
    this.agent.destroy();
    this.spare?.destroy();
    this.spare = null;
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
      state: this.closed ? 'closed' : this.inFlight.size > 0 ? 'busy' : first === undefined ? 'dead' : first.phase === 'open' ? 'idle' : 'connecting',
      localAddress: s?.localAddress ?? null,
      localPort: s?.localPort ?? null,
      remoteAddress: s?.remoteAddress ?? null,
      remotePort: s?.remotePort ?? null,
      requests: this.requests,
      inFlight: this.inFlight.size,
      bytesIn,
      bytesOut,
      reconnects: Math.max(0, this.connects - 1),
      failedDials: this.failedDials,
      errors: this.errors,
      ageMs: first === undefined ? 0 : now - first.openedAt,
      retries: 0, // counted by the origin
    };
  }

  // ---- the request's carrier

  phaseOf(req: Request): Phase {
    return (exchangeOf(req)).phase;
  }

  pause(req: Request, paused: boolean): void {
    (exchangeOf(req)).pause(paused);
  }

  withdraw(req: Request): void {
    const ex = exchangeOf(req);
    if (!this.inFlight.delete(ex)) return;
    req.slot = null;
    ex.drop();
    this.reports.wake();
  }

  // ---- ExchangeSlot, SlotSockets

  info(socket: net.Socket): SocketInfo | undefined {
    return this.sockets.get(socket);
  }

  /**
   * A socket the peer ended (its EOF read, or on Node 26 its close while free) while idle,
   * just after its first response (not one this library destroyed):
   * the peer closes after each one without saying so (tinyproxy 1.11). From then on each
   * request goes with `connection: close`, so that none is written into a close on its way.
   */
  socketEnded(info: SocketInfo): void {
    if (this.closed || info.ours || info.uses !== 1 || info.freedAt === 0) return;
    if (Date.now() - info.freedAt < CLOSES_EACH_WINDOW_MS) this.closesEach = true;
  }

  /** See socketEnded. */
  closesEach = false;

  reusedSocket(): boolean {
    for (const info of this.sockets.values()) if (info.phase === 'open' && info.uses !== 0 && !info.socket.destroyed) return true;
    return false;
  }

  upgraded(ex: NodeExchange, statusCode: number, rawHeaders: string[], socket: Duplex): void {
    if (!this.inFlight.delete(ex)) return void socket.destroy();
    const req = ex.request;
    req.slot = null;
    this.requests++;
    req.upgradedTo(statusCode, rawHeaders, socket);
    this.reports.wake();
  }

  finished(ex: NodeExchange, res: Response | null, err: HttpClientPoolError | null, dialErr: boolean): void {
    if (!this.inFlight.delete(ex)) return;
    const req = ex.request;
    req.slot = null;
    if (res !== null) {
      this.requests++;
      if (req.streams) req.responseEnd(res.rawTrailers, ex.bodyLength);
      else req.succeed(res);
    } else if (dialErr) {
      this.errors++;
      err!.origin ??= this.endpoint.origin;
      err!.socketId ??= this.id;
      this.reports.dialFailed(this.id, req, err!);
    } else {
      if (!(err instanceof AbortError || err instanceof RequestTimeoutError)) this.errors++;
      err!.origin ??= this.endpoint.origin;
      err!.socketId ??= this.id;
      req.fail(err!);
    }
    this.reports.wake();
  }

  connectedOk(): void {
    this.connects++;
    // The origin marks the address good and tells the client (undici's `connect` event).
    this.reports.connected(this.id);
  }

  override socketGone(s: net.Socket): void {
    super.socketGone(s);
    if (this.sockets.size === 0) this.reports.emptied(this.id);
  }
}

function parked(agent: http.Agent, socket: net.Socket): boolean {
  const free = agent.freeSockets;
  // for-in: no array of the lists per socket freed (this runs once a request).
  for (const name in free) if (free[name]?.includes(socket) === true) return true;
  return false;
}

/** How node:http carries a NodePool request: kept in the request's `carriage`, set by prepare(). */
function exchangeOf(req: Request): NodeExchange {
  return req.carriage as NodeExchange;
}

/** NodePool's slots: node:http agents. */
export const nodeBackend: Backend = {
  followsAddresses: false,
  // An agent dials with a request; ready() opens a socket per slot (NodeSlot.connect).
  dialsEagerly: false,
  // node:http's events for a request can come after it settled (a late 'error' or
  // 'close'), and its exchange is found by the request: each must stay itself.
  recyclesRequests: false,
  createSlot: (id, ctx) => new NodeSlot(id, ctx),
  prepare(req, headers, body, config, hostHeader, proxyHeaders): void {
    const streamed = req.streamed;
    if (headers === undefined && (body === undefined || body === null) && streamed === null && req.upgrade === 0 && proxyHeaders === null && !needsLength(req.method)) {
      // Most calls: the pool's own headers only, the same every time.
      req.carriage = new NodeExchange(req, plainHeaders(config.headers, hostHeader), null);
      return;
    }
    const defaults = proxyHeaders === null ? config.headers : { ...proxyHeaders, ...config.headers };
    const parts = requestParts(req.method, headers, streamed === null ? body : null, defaults, hostHeader);
    if (streamed !== null) {
      // A streamed body: its declared length, or chunked (node:http frames it).
      if (streamed.length >= 0) parts.headers.set('content-length', ['content-length', String(streamed.length)]);
      else {
        parts.headers.delete('content-length');
        parts.headers.set('transfer-encoding', ['transfer-encoding', 'chunked']);
      }
      if (streamed.expectContinue) parts.headers.set('expect', ['expect', '100-continue']);
    }
    if (req.upgrade === 1) {
      parts.headers.set('connection', ['connection', 'upgrade']);
      parts.headers.set('upgrade', ['upgrade', req.protocol]);
    }
    req.carriage = new NodeExchange(req, flatten(parts.headers), parts.payload);
  },
};


function needsLength(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

/** The last plain header list built, and what it was built from (most pools have one origin). */
let plainFrom: Headers | null = null;
let plainHost = '';
let plain: FlatHeaders = [];

/** The headers of a call without its own headers or body: the pool's defaults and Host; node:http only reads them. */
function plainHeaders(defaults: Headers, hostHeader: string): FlatHeaders {
  if (plainFrom !== defaults || plainHost !== hostHeader) {
    plain = flatten(requestParts('GET', undefined, null, defaults, hostHeader).headers);
    plainFrom = defaults;
    plainHost = hostHeader;
  }
  return plain;
}

function flatten(headers: Map<string, [string, string | string[]]>): FlatHeaders {
  const flat: FlatHeaders = [];
  for (const [name, value] of headers.values()) {
    if (typeof value === 'string') flat.push(name, value);
    else for (const v of value) flat.push(name, v);
  }
  return flat;
}

/** Headers for node:http in the same order and form the raw pool writes them (by lower-case name), and the body bytes. */
function requestParts(
  method: string,
  given: Headers | undefined,
  body: Body | null | undefined,
  defaults: Headers,
  hostHeader: string,
): { headers: Map<string, [string, string | string[]]>; payload: Buffer | string | null } {
  const headers = new Map<string, [string, string | string[]]>();
  const put = (h: Headers): void => {
    for (const name of Object.keys(h)) {
      const v = h[name];
      if (v === undefined) continue;
      const lower = name.toLowerCase();
      headers.delete(lower); // a later one of the same name replaces it, at the end
      headers.set(lower, [name, typeof v === 'number' ? String(v) : typeof v === 'string' ? v : [...v]]);
    }
  };
  put(defaults);
  if (given !== undefined) put(given);
  if (!headers.has('host')) headers.set('host', ['host', hostHeader]);
  let payload: Buffer | string | null = null;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string') payload = body;
    else if (body instanceof Uint8Array) payload = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    else {
      payload = JSON.stringify(body);
      if (!headers.has('content-type')) headers.set('content-type', ['content-type', 'application/json']);
    }
  }
  headers.delete('content-length');
  if (payload !== null) headers.set('content-length', ['content-length', String(Buffer.byteLength(payload))]);
  else if (needsLength(method)) headers.set('content-length', ['content-length', '0']);
  return { headers, payload };
}
