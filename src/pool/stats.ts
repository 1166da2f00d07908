// Point-in-time view of a pool's sockets, built from counters the slots keep
// anyway: reading it costs one small object per socket and touches no socket.

export type SocketState = 'dead' | 'connecting' | 'idle' | 'busy' | 'closed';

export interface SocketStats {
  /** Slot index within its origin, as in errors' `socketId`. */
  id: number;
  state: SocketState;
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  /** Responses completed over the slot's life (all its sockets). */
  requests: number;
  /** Requests on the slot: dialing for one, or in flight (more than one with pipelining). */
  inFlight: number;
  /** Bytes read and written, as Node counts them on the slot's sockets. */
  bytesIn: number;
  bytesOut: number;
  /** Sockets connected after the slot's first one: re-dials that connected. */
  reconnects: number;
  /** Dials that never connected (refused, not resolved, timed out, TLS failed), counted apart from reconnects. */
  failedDials: number;
  /** Requests this slot failed (dial, socket, parse and header-timeout errors). */
  errors: number;
  /** Milliseconds since the current socket connected; 0 without one. */
  ageMs: number;
  /** Responses it carried that were retried (the `retry` option). */
  retries: number;
}

export interface OriginStats {
  origin: string;
  /** The proxy its sockets go through (`scheme://host:port`, no credentials), or null: direct. */
  proxy: string | null;
  /** Requests waiting for a free socket. */
  queued: number;
  /** Requests waiting out a retry's delay. */
  retryWaiting: number;
  sockets: SocketStats[];
}

export interface PoolStats {
  origins: OriginStats[];
  totals: {
    sockets: number;
    connected: number;
    requests: number;
    inFlight: number;
    queued: number;
    bytesIn: number;
    bytesOut: number;
    reconnects: number;
    failedDials: number;
    errors: number;
    retries: number;
  };
}

export function poolStats(origins: OriginStats[]): PoolStats {
  const totals = { sockets: 0, connected: 0, requests: 0, inFlight: 0, queued: 0, bytesIn: 0, bytesOut: 0, reconnects: 0, failedDials: 0, errors: 0, retries: 0 };
  for (const o of origins) {
    totals.queued += o.queued;
    for (const s of o.sockets) {
      totals.sockets++;
      if (s.state === 'idle' || s.state === 'busy') totals.connected++;
      totals.requests += s.requests;
      totals.inFlight += s.inFlight;
      totals.bytesIn += s.bytesIn;
      totals.bytesOut += s.bytesOut;
      totals.reconnects += s.reconnects;
      totals.failedDials += s.failedDials;
      totals.errors += s.errors;
      totals.retries += s.retries;
    }
  }
  return { origins, totals };
}
