// The sockets of one NodePool slot: an http(s).Agent whose connections are opened
// by our own dial code, so the dial and TLS timers cover exactly their phase, the
// origin's TLS session is shared across slots, and idle sockets follow the same
// keep-alive rule as the raw pool.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import type { LookupFunction } from 'node:net';
import { connectTCP, startTLSNow, type Endpoint, type SessionCache } from '../conn/dial.js';
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
  readonly openedAt = Date.now();
  deadline = 0;
  clockIndex = -1;
  private timer: 'dial' | 'tls' | 'idle' | null = null;

  constructor(
    readonly socket: net.Socket,
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
    if (t === 'dial') this.socket.destroy(new ConnectTimeoutError(this.config.dialTimeout, {}));
    else if (t === 'tls') this.socket.destroy(new TLSTimeoutError(this.config.tlsTimeout, {}));
    else if (t === 'idle') this.socket.destroy();
  }
}

export interface SlotSockets {
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
  socketGone(s: net.Socket): void;
}

/** Opens a socket for `slot`'s agent: TCP, then TLS over it when the origin is https. */
function open(slot: SlotSockets): net.Socket {
  const { endpoint, config } = slot;
  slot.dials++;
  const tcp = connectTCP(endpoint, slot.lookup);
  const socket = endpoint.tls === null ? tcp : startTLSNow(tcp, endpoint, slot.sessions);
  const info = new SocketInfo(socket, config);
  slot.sockets.set(socket, info);
  info.set('dial', config.dialTimeout);
  tcp.once('connect', () => {
    if (endpoint.tls === null) {
      info.phase = 'open';
      info.set(null, 0);
      slot.connectedOk();
      if (connectChannel.hasSubscribers) publishConnect(endpoint.origin, slot.id, socket, false);
    } else {
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
      info.phase = 'open';
      info.set(null, 0);
      slot.connectedOk();
      if (connectChannel.hasSubscribers) publishConnect(endpoint.origin, slot.id, socket, true);
    });
  }
  socket.once('close', () => {
    info.set(null, 0);
    slot.sockets.delete(socket);
    slot.socketGone(socket);
  });
  return socket;
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
    override createConnection(): net.Socket {
      return open(slot);
    }
    addRequest(req: http.ClientRequest): void {
      add.call(this, req, key);
    }
  })(options);
}
