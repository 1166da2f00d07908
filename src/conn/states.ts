import type { Duplex } from 'node:stream';
// What the raw slot's protocol machine (machine.ts) is made of: the interface to its
// driver, the states a slot can be in, and the data each state carries.
import type { Request } from '../pool/request.js';
import type { SocketState } from '../pool/stats.js';

/** What the machine asks of its driver. */
export interface SlotIo {
  /** Opens a socket (TCP or unix); `connected()` or `closed()` follows. */
  dial(): void;
  /** Starts TLS over the connected socket; `secured()` or `closed()` follows. */
  startTLS(): void;
  /** Writes one request; true when the kernel took all of it at once, else `written()` follows. */
  write(head: Buffer, body: Buffer | null): boolean;
  /**
   * Writes `req`'s head, then pumps its streamed body (framed chunked when it has no
   * length) with the socket's backpressure: `written()` follows once all of it has left
   * (or a write failed), or `uploadFailed()` when the body cannot be sent as declared.
   * A request with `expectContinue` gets its head written alone: the body waits for `uploadGo()`.
   */
  upload(req: Request): void;
  /** Pumps the upload written with `upload()` but held back for a 100 Continue. */
  uploadGo(): void;
  /** Arms the phase timer `ms` from now (0: off); `expire()` follows. */
  arm(ms: number): void;
  disarm(): void;
  /** Drops the socket; no more events of it follow. */
  close(): void;
  /**
   * Lets the socket go without closing it (its connection switched protocols): no more
   * events of it reach the slot. Returns it as a stream the new owner reads and writes,
   * `head` (bytes already read past the response head) first.
   */
  detach(head: Buffer | null): Duplex;
  /** Wall-clock ms (`Date.now()`), for connection ages. */
  now(): number;
  /** The socket is connected (and secured) and about to carry requests: for the connect event. */
  usable(): void;
  /** Refs (true) or unrefs the socket: whether it keeps the process alive. */
  ref(held: boolean): void;
  /** Bytes of the socket's writes the kernel has taken so far (not those still queued in Node). */
  bytesSent(): number;
  /** Stops reading the socket (a caller paused its response): TCP pushes back on the server. */
  readStop(): void;
  readStart(): void;
  /** Calls `polled()` once the event loop has polled the socket for news (see `defer`). */
  afterPoll(): void;
  cancelPoll(): void;
  /** The socket can still be written to, as far as Node knows. */
  writable(): boolean;
  /**
   * Keeps a socket whose write failed open for reading (Node would destroy it and drop
   * what is still to be read); false when it is gone already.
   */
  readOn(): boolean;
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

export const enum Timer {
  None,
  Dial,
  TLS,
  Headers,
  /** The gap between two reads of a response body. */
  Body,
  Idle,
  /** A request's body waiting for the server's 100 Continue. */
  Continue,
  /** A request being written: bytes must keep leaving. */
  Write,
}

/** The socket being opened. */
export class Dialing {
  /** TCP is connected and the TLS handshake is next (or waiting for the first ticket): a failure is the TLS phase's. */
  tls = false;
  /** The socket's error, reported with its close. */
  error: Error | null = null;
}

/** A connected socket: what it carried, and whether it takes more. */
export class Open {
  /** Requests written on it / whose writes completed / answered. */
  sent = 0;
  flushed = 0;
  served = 0;
  /** It takes no more requests and closes after those on it (recycling). */
  retiring = false;
  /** A write failed, and the socket is read on for an answer already sent (see `writeFailed`). */
  readingOn = false;
  /** The socket's first error: after a failed write, a reset read later is its echo. */
  error: Error | null = null;
  /** Its last response was HTTP/1.0: a chunked upload is refused on it. */
  http10 = false;
  /** Reads are stopped for the response at the front (its caller paused): they start again at its end at the latest. */
  readsStopped = false;
  constructor(
    /** `now()` when it became usable. */
    readonly connectedAt: number,
    /** `maxConnAge`, jittered; 0 = no limit. */
    readonly ageLimit: number,
  ) {}
}

/** By `State`, in its order. */
export const STATE_NAMES = ['dead', 'connecting', 'idle', 'busy', 'closed'] as const satisfies readonly SocketState[];
