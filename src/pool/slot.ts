// What an origin needs of one slot of a backend: a raw socket driven by our own
// protocol machine (src/raw), or a node:http agent (src/node). The origin decides what
// runs next; a slot only takes what it is given and reports what happened.
import type * as net from 'node:net';
import type { HttpClientPoolError } from '../errors.js';
import type { Request } from './request.js';
import type { SocketStats } from './stats.js';

/** What a slot reports to its origin. Only `wake()` lets the origin act on slots, and a slot calls it last. */
export interface SlotReports {
  /** The socket of slot `id` is connected (and secured). */
  connected(id: number): void;
  /** Dialing of slot `id` failed; `req` waited for it, if any: nothing was sent, so it may go to another slot. */
  dialFailed(id: number, req: Request | null, err: HttpClientPoolError): void;
  /** Requests to send again, ahead of the queue, in their order. */
  requeue(reqs: Request[]): void;
  /** A slot may take requests now: the origin's dispatch loop runs (at once, unless it is running). */
  wake(): void;
  /** Slot `id` lost its last socket: the origin may have nothing left (it looks after the current callback). */
  emptied(id: number): void;
  /** A `ready()` waits for the slots that are connecting: their sockets hold the process meanwhile. */
  readonly awaited: boolean;
}

export interface Slot {
  /** Index within its origin (0..size-1), as in errors' `socketId`. */
  readonly id: number;
  /** Whether `req` can go on this slot now. */
  canTake(req: Request): boolean;
  /** Takes `req`; `canTake(req)` was true. Called by the origin's dispatch loop only. */
  take(req: Request): void;
  /** Starts a dial if the slot has no socket (a backend that dials on demand does nothing). */
  connect(): void;
  /** Has a connected socket (for `ready()`). */
  readonly connected: boolean;
  /** Carries no request and holds no socket, connecting or open. */
  readonly vacant: boolean;
  /** Decides again whether its sockets keep the process alive (a `ready()` began or ended waiting). */
  hold(): void;
  /** Lets its sockets go after their current work, so new ones follow a changed address set. */
  recycle(): void;
  /** Closes the slot for good; requests still on it fail with the reason's error (null: only close). */
  destroy(reason: DestroyReason | null): void;
  stats(now: number): SocketStats;
}

/**
 * Why a pool is destroyed: the library's own error, made afresh for each request (a
 * function: each rejection carries its own origin, socket and phase), or the caller's
 * `destroy(err)`, which every request rejects with as it is, the same object, untouched.
 */
export type DestroyReason = (() => HttpClientPoolError) | Error;

/**
 * What a slot counts over its life, in both backends: cheap field increments only.
 * stats() adds the live sockets' own byte counts.
 */
export class SlotCounters {
  /** Responses completed on any of the slot's sockets. */
  requests = 0;
  /** Dials started. */
  dials = 0;
  /** Dials that gave a connected (and secured) socket. */
  connects = 0;
  /** Dials that did not: refused, not resolved, timed out, TLS failed. */
  failedDials = 0;
  /** Requests failed by this slot (dial, socket, parse and timeout errors). */
  errors = 0;
  /** Bytes read and written by sockets already closed. */
  bytesInClosed = 0;
  bytesOutClosed = 0;

  /** A socket of the slot is gone: keep its byte counts. */
  socketGone(s: net.Socket): void {
    this.bytesInClosed += s.bytesRead;
    this.bytesOutClosed += s.bytesWritten;
  }
}
