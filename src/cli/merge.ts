// The threads' results as one run: counts summed, histograms added bucket by bucket
// (so percentiles are of all the requests, not averages of per-thread percentiles),
// per-second counts summed second by second (every thread counts from the same
// start), and the socket tables put together.
import { Histogram } from './histogram.js';
import type { SocketRow, ThreadResult } from './run.js';

/**
 * A ThreadResult for the whole run: the same counts, with the histograms and tables
 * made whole again (they cross threads in a cloneable form). `perSecond` counts from the
 * common start; `elapsedMs` runs to the last thread's last response.
 */
export interface RunResult extends Omit<ThreadResult, 'latency' | 'serviceTime' | 'statuses' | 'errors' | 'causes'> {
  latency: Histogram;
  serviceTime: Histogram | null;
  statuses: Map<number, number>;
  errors: Map<string, number>;
  causes: Map<string, number>;
}

export function merge(results: readonly ThreadResult[]): RunResult {
  const statuses = new Map<number, number>();
  const errors = new Map<string, number>();
  const causes = new Map<string, number>();
  const perSecond: number[] = [];
  const out: RunResult = {
    latency: Histogram.from(results.map((r) => r.latency)),
    serviceTime: results.every((r) => r.serviceTime !== null) && results.length > 0 ? Histogram.from(results.map((r) => r.serviceTime!)) : null,
    statuses,
    errors,
    causes,
    gaveUp: null,
    completed: 0,
    failed: 0,
    late: 0,
    maxLateMs: 0,
    unsent: 0,
    perSecond,
    elapsedMs: 0,
    stoppedEarly: false,
    sockets: [],
    bytesIn: 0,
    bytesOut: 0,
    pipelined: 0,
    maxDepth: 0,
  };
  for (const r of results) {
    for (const [k, n] of r.statuses) statuses.set(k, (statuses.get(k) ?? 0) + n);
    for (const [k, n] of r.errors) errors.set(k, (errors.get(k) ?? 0) + n);
    for (const [k, n] of r.causes) causes.set(k, (causes.get(k) ?? 0) + n);
    out.gaveUp ??= r.gaveUp;
    r.perSecond.forEach((n, i) => (perSecond[i] = (perSecond[i] ?? 0) + n));
    out.completed += r.completed;
    out.failed += r.failed;
    out.late += r.late;
    out.maxLateMs = Math.max(out.maxLateMs, r.maxLateMs);
    out.unsent += r.unsent;
    out.elapsedMs = Math.max(out.elapsedMs, r.elapsedMs);
    out.stoppedEarly ||= r.stoppedEarly;
    out.sockets.push(...r.sockets);
    out.bytesIn += r.bytesIn;
    out.bytesOut += r.bytesOut;
    out.pipelined += r.pipelined;
    out.maxDepth = Math.max(out.maxDepth, r.maxDepth);
  }
  // A thread with no completion in a second leaves a hole: that second had 0 of its requests.
  for (let i = 0; i < perSecond.length; i++) perSecond[i] ??= 0;
  return out;
}
