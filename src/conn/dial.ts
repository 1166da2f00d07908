// Opening sockets: TCP (or a unix socket) first, then TLS over it as a separate step,
// so the dial and TLS timers each cover exactly their own phase. Sockets of one
// origin share a TLS session cache: later sockets resume the first one's session.
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { TLSOptions } from '../options.js';
import type { ProxyRoute } from './proxy.js';

/** Where and how the sockets of one origin connect. */
export interface Endpoint {
  readonly origin: string;
  readonly hostname: string;
  readonly port: number;
  readonly socketPath: string | undefined;
  /** TLS settings, or null for plain `http:`. */
  readonly tls: tls.ConnectionOptions | null;
  /** The proxy its sockets go through (proxy.ts), or null: direct. */
  readonly proxy: ProxyRoute | null;
}

/** Its sockets are plain TCP to the peer they talk to (no TLS of the target's or of a proxy's). */
export function plainSocket(ep: Endpoint): boolean {
  return ep.tls === null && (ep.proxy === null || ep.proxy.tls === null);
}

export function makeTLSOptions(hostname: string, user: TLSOptions, insecureSkipVerify: boolean): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = {
    ALPNProtocols: ['http/1.1'],
    ...user,
    host: hostname,
  };
  // SNI carries a host name, never an IP literal (RFC 6066 section 3).
  if (options.servername === undefined && net.isIP(hostname) === 0) options.servername = hostname;
  if (insecureSkipVerify) options.rejectUnauthorized = false;
  return options;
}

/**
 * Starts a TCP (or unix socket) connect. The caller listens for `connect`, `error`,
 * `close`. `lookup` picks the address (multi-address dialing); one address is tried,
 * so a slot stays on the backend it was given.
 */
export function connectTCP(ep: Endpoint, lookup?: net.LookupFunction, onread?: net.OnReadOpts): net.Socket {
  if (ep.socketPath !== undefined) return net.connect({ path: ep.socketPath, ...(onread === undefined ? {} : { onread }) });
  return net.connect({
    host: ep.hostname,
    port: ep.port,
    noDelay: true,
    keepAlive: true,
    keepAliveInitialDelay: 60_000,
    ...(lookup === undefined ? {} : { lookup, autoSelectFamily: false }),
    ...(onread === undefined ? {} : { onread }),
  });
}

/** Starts a TLS handshake over a connected socket. The caller listens for `secureConnect`. */
export function startTLS(socket: net.Socket, ep: Endpoint, cache: SessionCache): tls.TLSSocket {
  const leading = cache.session === null;
  const secure = startTLSNow(socket, ep, cache);
  if (leading) {
    // This is the handshake the other sockets wait for (see SessionCache.acquire).
    secure.once('secureConnect', () => setTimeout(() => cache.release(), TICKET_GRACE_MS).unref());
    secure.once('close', () => cache.release());
  }
  return secure;
}

/**
 * Starts TLS at once over a socket that may still be connecting (node:http agents
 * need the socket synchronously), offering the origin's last session ticket.
 */
export function startTLSNow(socket: net.Socket, ep: Endpoint, cache: SessionCache): tls.TLSSocket {
  const secure = tls.connect({ ...ep.tls, socket, session: cache.session ?? undefined });
  secure.on('session', (s: Buffer) => cache.store(s));
  return secure;
}

/**
 * How long after the first handshake other sockets wait for its session ticket.
 * TLS 1.3 tickets arrive just after the handshake; a server that sends none must
 * not hold the other sockets back for long.
 */
const TICKET_GRACE_MS = 50;

/**
 * The last TLS session ticket of an origin, offered by every new socket of it.
 * When no ticket is known yet, the first socket to reach TLS leads and the others
 * wait for its ticket, so that sockets 2..N resume instead of each paying a full
 * handshake. Waiting is bounded by the leader's handshake (and its TLS timer).
 */
export class SessionCache {
  session: Buffer | null = null;
  private leading = false;
  private waiters: (() => void)[] = [];

  /** Calls `start` now, or once the leading handshake has produced a ticket or ended. */
  acquire(start: () => void): void {
    if (this.session !== null) return start();
    if (!this.leading) {
      this.leading = true;
      return start();
    }
    this.waiters.push(start);
  }

  store(session: Buffer): void {
    this.session = session;
    this.release();
  }

  /** Lets the waiting sockets go, with whatever ticket there is. */
  release(): void {
    this.leading = false;
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const f of w) f();
  }
}
