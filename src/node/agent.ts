// The sockets of one NodePool slot: an http(s).Agent whose connections are opened
// by our own dial code, so the dial and TLS timers cover exactly their phase, the
// origin's TLS session is shared across slots, and idle sockets follow the same
// keep-alive rule as the raw pool.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import type { LookupFunction } from 'node:net';
import { connectTCP, startTLSNow, type Endpoint, type SessionCache } from '../conn/dial.js';
import { ProxyDial, type ProxyRoute, type TunnelSink } from '../conn/proxy.js';
import { arm, disarm, type Timed } from '../conn/timers.js';
import { ConnectTimeoutError, TLSTimeoutError } from '../errors.js';
import type { Config } from '../options.js';
import { connectChannel, publishConnect } from '../diagnostics.js';

export type SocketPhase = 'dial' | 'tls' | 'open';

/** What the slot knows of one of its sockets; also that socket's dial / TLS / idle deadline. */
export class SocketInfo implements Timed {
  phase: SocketPhase = 'dial';
  /** Requests this socket started (the second and later ones are on a reused socket). */
  uses = 0;
  /** The last response's `Keep-Alive: timeout` hint in ms, or -1. */
  hint = -1;
  /** Its last response was HTTP/1.0: a chunked upload is refused on it. */
  http10 = false;
  /** `Date.now()` when it was last freed after a response; 0: never. */
  freedAt = 0;
  /** This library destroyed it (a timer, the idle rule): its close says nothing of the peer. */
  ours = false;
  readonly openedAt = Date.now();
  deadline = 0;
  clockIndex = -1;
  private timer: 'dial' | 'tls' | 'idle' | null = null;

  constructor(
    /** The socket; through a proxy, the TCP socket to it until the tunnel is open, then the tunnel (or TLS in it). */
    public socket: net.Socket,
    private readonly config: Config,
  ) {}

  set(timer: 'dial' | 'tls' | 'idle' | null, ms: number): void {
    this.timer = timer;
    if (timer === null) disarm(this);
    else arm(this, ms);
  }

  expire(): void {
    const t = this.timer;
    this.timer = null;
    this.ours = true;
    if (t === 'dial') this.socket.destroy(new ConnectTimeoutError(this.config.dialTimeout, {}));
    else if (t === 'tls') this.socket.destroy(new TLSTimeoutError(this.config.tlsTimeout, {}));
    else if (t === 'idle') this.socket.destroy();
  }
}

export interface SlotSockets {
  /**
   * A socket the slot opened ahead of any request (`ready()`): the agent's next new
   * connection is this one, if it is still alive. Taken (returned, and forgotten) here.
   */
  takeSpare(): net.Socket | null;
  readonly id: number;
  /** Picks the slot's address among the host's; undefined: Node's own lookup. */
  readonly lookup: LookupFunction | undefined;
  /** A socket of the slot connected (and secured). */
  connectedOk(): void;
  readonly endpoint: Endpoint;
  readonly config: Config;
  readonly sessions: SessionCache;
  /** Every live socket of the slot, with its state. */
  readonly sockets: Map<net.Socket, SocketInfo>;
  dials: number;
  failedDials: number;
  socketGone(s: net.Socket): void;
  /** The peer ended a socket of the slot (its EOF was read), or it closed: the slot may learn from when. */
  socketEnded(info: SocketInfo): void;
}

/** Opens a socket for `slot`'s agent: TCP, then TLS over it when the origin is https. */
export function open(slot: SlotSockets): net.Socket {
  const { endpoint, config } = slot;
  slot.dials++;
  const tcp = connectTCP(endpoint, slot.lookup);
  const socket = endpoint.tls === null ? tcp : startTLSNow(tcp, endpoint, slot.sessions);
  const info = new SocketInfo(socket, config);
  track(slot, info, socket);
  info.set('dial', config.dialTimeout);
  tcp.once('connect', () => {
    if (endpoint.tls === null) opened(slot, info, socket, false);
    else {
      info.phase = 'tls';
      info.set('tls', config.tlsTimeout);
    }
  });
  if (endpoint.tls !== null) {
    // Hold node:http's request bytes until the handshake is done: written into an
    // unfinished handshake they fail first (EPROTO) and hide the TLS alert.
    socket.cork();
    socket.once('secureConnect', () => {
      socket.uncork();
      opened(slot, info, socket, true);
    });
  }
  // An error before it was open (refused, not resolved, timed out, TLS failed); this
  // listener runs before node:http's, so the count is in stats() when the request fails.
  socket.once('error', () => {
    if (info.phase !== 'open') slot.failedDials++;
  });
  return socket;
}

/** `socket` is connected (and secured): the slot's socket is open, its dial and TLS timers done. */
function opened(slot: SlotSockets, info: SocketInfo, socket: net.Socket, secure: boolean): void {
  info.phase = 'open';
  info.set(null, 0);
  slot.connectedOk();
  if (connectChannel.hasSubscribers) publishConnect(slot.endpoint.origin, slot.id, socket, secure);
}

/** `socket` is the slot's (as `info`) until it closes; its peer's end and its close may teach the slot (socketEnded). */
function track(slot: SlotSockets, info: SocketInfo, socket: net.Socket): void {
  slot.sockets.set(socket, info);
  socket.once('close', () => gone(slot, info, socket));
  // Node 20-24 report the peer's EOF on a free socket before its close; Node 26 only closes it.
  socket.once('end', () => slot.socketEnded(info));
}

function gone(slot: SlotSockets, info: SocketInfo, socket: net.Socket): void {
  if (info.socket !== socket) return; // a proxy connection handed on to its tunnel's TLS: that socket is tracked now
  info.set(null, 0);
  slot.sockets.delete(socket);
  slot.socketEnded(info);
  slot.socketGone(socket);
}

/** node:http's callback for a socket made later (createConnection's second argument). */
export type Created = (err: Error | null, socket: net.Socket) => void;

/**
 * Opens a socket through the slot's proxy (conn/proxy.ts), handed to node:http by
 * `done` once the tunnel is open (a tunnel must not carry node:http's bytes before
 * that); then TLS to the target over it as on a direct socket. The dial timer covers
 * the way through the proxy, as in Pool.
 */
export function openProxied(slot: SlotSockets, route: ProxyRoute, done: Created): void {
  const { endpoint, config } = slot;
  slot.dials++;
  let info: SocketInfo;
  const sink: TunnelSink = {
    tunnelled(tunnel) {
      slot.sockets.delete(info.socket);
      if (endpoint.tls === null) {
        info.socket = tunnel;
        track(slot, info, tunnel);
        opened(slot, info, tunnel, false);
        return done(null, tunnel);
      }
      const secure = startTLSNow(tunnel, endpoint, slot.sessions);
      info.socket = secure;
      track(slot, info, secure);
      info.phase = 'tls';
      info.set('tls', config.tlsTimeout);
      secure.cork(); // as in open(): node:http's bytes wait for the handshake
      secure.once('secureConnect', () => {
        secure.uncork();
        opened(slot, info, secure, true);
      });
      done(null, secure);
    },
    tunnelFailed(err) {
      info.set(null, 0);
      slot.failedDials++;
      done(err, undefined as unknown as net.Socket);
    },
  };
  const dial = new ProxyDial(route, sink, undefined);
  info = new SocketInfo(dial.tcp, config);
  slot.sockets.set(dial.tcp, info);
  // The proxy connection is the slot's socket until the tunnel opens; its end means nothing then.
  dial.tcp.once('close', () => gone(slot, info, dial.tcp));
  info.set('dial', config.dialTimeout);
}

/** The part of node's Agent that `createAgent` overrides: not in its public types. */
type AddRequest = (this: http.Agent, req: http.ClientRequest, options: object) => void;

export function createAgent(slot: SlotSockets, maxSockets: number): http.Agent {
  const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' as const };
  // What the agent keys and dials by, the same for every request of the slot: node:http
  // would hand it a copy of all of a request's options, which it copies again (a
  // dictionary object per copy). Our createConnection dials from the endpoint, and a
  // servername given (empty) spares the agent deriving one from the Host header.
  const key = { __proto__: null, host: slot.endpoint.hostname, port: slot.endpoint.port, servername: '' };
  const Base = slot.endpoint.tls === null ? http.Agent : https.Agent;
  const add = (Base.prototype as unknown as { addRequest: AddRequest }).addRequest;
  return new (class extends Base {
    override createConnection(_o: unknown, done?: Created): net.Socket | undefined {
      return connection(slot, done!);
    }
    addRequest(req: http.ClientRequest): void {
      add.call(this, req, key);
    }
  })(options);
}

/** The socket for the agent's next request: the one ready() opened, or a new one (through the proxy: given to `done` later). */
function connection(slot: SlotSockets, done: Created): net.Socket | undefined {
  const spare = slot.takeSpare();
  if (spare !== null) return spare;
  const route = slot.endpoint.proxy;
  if (route === null) return open(slot);
  openProxied(slot, route, done);
  return undefined;
}
