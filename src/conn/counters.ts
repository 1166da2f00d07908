// Counters of one socket slot, kept the same way by both backends.
import type * as net from 'node:net';

/**
 * What a slot counts over its life, in both backends: cheap field increments only.
 * stats() adds the live sockets' own byte counts.
 */
export class SlotCounters {
  /** Responses completed on any of the slot's sockets. */
  requests = 0;
  /** Dials started. */
  dials = 0;
  /** Requests failed by this slot (dial, socket, parse and header-timeout errors). */
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
