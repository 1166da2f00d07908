// The final report: one object (printed as JSON with --json) and its text form.
// Completed requests (a whole response, any status) and failed ones (no response)
// are reported apart: rates and latency are of completed requests, failures get
// their own count and rate.
import type { PoolStats } from '../core/stats.js';
import type { Load } from './load.js';

/** Milliseconds. */
export interface Latency {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

export interface Report {
  url: string;
  backend: string;
  size: number;
  /** Requests allowed in flight per socket (`--pipelining`). */
  pipelining: number;
  /** Requests written to a socket while an earlier one on it had not settled. */
  pipelined: number;
  /** Most requests seen in flight on one socket at once; 1: no pipelining. */
  pipelineDepth: number;
  concurrency: number;
  /** Requests made: succeeded + failed. */
  requests: number;
  /** Requests that got a whole response, whatever its status. */
  succeeded: number;
  /** Requests that got no response (connect, timeout, reset, parse, ...). */
  failed: number;
  durationMs: number;
  /** Succeeded requests per second. */
  requestsPerSec: number;
  failuresPerSec: number;
  bytesIn: number;
  bytesOut: number;
  bytesInPerSec: number;
  /** Of succeeded requests; null when none succeeded. */
  latency: Latency | null;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  sockets: { origin: string; id: number; remote: string | null; requests: number; share: number }[];
  stoppedEarly: boolean;
}

export interface RunInfo {
  url: string;
  backend: string;
  size: number;
  pipelining: number;
  concurrency: number;
}

/** `pipeline`: what a run allowed to pipeline did (see PipelineWatch); null for a run with `pipelining` 1. */
export function makeReport(load: Load, stats: PoolStats, info: RunInfo, pipeline: { pipelined: number; maxDepth: number } | null): Report {
  const h = load.latency;
  const ms = (us: number): number => Math.round(us) / 1000;
  const seconds = load.elapsedMs / 1000;
  const perSec = (n: number, digits: number): number => (seconds > 0 ? Math.round((n / seconds) * 10 ** digits) / 10 ** digits : 0);
  const total = stats.totals.requests;
  const sockets = stats.origins.flatMap((o) =>
    o.sockets.map((s) => ({
      origin: o.origin,
      id: s.id,
      remote: s.remoteAddress === null ? null : `${s.remoteAddress}:${s.remotePort}`,
      requests: s.requests,
      share: total === 0 ? 0 : s.requests / total,
    })),
  );
  return {
    url: info.url,
    backend: info.backend,
    size: info.size,
    pipelining: info.pipelining,
    pipelined: pipeline?.pipelined ?? 0,
    pipelineDepth: Math.max(1, pipeline?.maxDepth ?? 1),
    concurrency: info.concurrency,
    requests: load.settled,
    succeeded: load.completed,
    failed: load.failed,
    durationMs: Math.round(load.elapsedMs),
    requestsPerSec: perSec(load.completed, 0),
    failuresPerSec: perSec(load.failed, 2),
    bytesIn: stats.totals.bytesIn,
    bytesOut: stats.totals.bytesOut,
    bytesInPerSec: perSec(stats.totals.bytesIn, 0),
    latency:
      h.count === 0
        ? null
        : {
            min: ms(h.min),
            mean: ms(h.mean),
            p50: ms(h.quantile(0.5)),
            p90: ms(h.quantile(0.9)),
            p99: ms(h.quantile(0.99)),
            p99_9: ms(h.quantile(0.999)),
            max: ms(h.max),
          },
    statuses: Object.fromEntries([...load.statuses].sort((a, b) => a[0] - b[0])),
    errors: Object.fromEntries(load.errors),
    sockets,
    stoppedEarly: load.stoppedEarly,
  };
}

export function formatReport(r: Report): string {
  const l = r.latency;
  const lines = [`target     ${r.url} (${r.backend} backend, ${r.size} socket${r.size === 1 ? '' : 's'}, concurrency ${r.concurrency})${r.stoppedEarly ? ', stopped early' : ''}`];
  // Only a run that allowed pipelining says anything about it, and then what it did.
  if (r.pipelining > 1) {
    lines.push(`pipelining ${r.pipelined === 0 ? 'none' : `${r.pipelined} requests pipelined, up to ${r.pipelineDepth} deep`} (--pipelining ${r.pipelining})`);
  }
  lines.push(
    `requests   ${r.succeeded} completed in ${(r.durationMs / 1000).toFixed(2)} s: ${r.requestsPerSec} req/s, ${bytes(r.bytesInPerSec)}/s in`,
    l === null ? 'latency    none: no request completed' : `latency    p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l.p99_9} ms  max ${l.max} ms`,
    `status     ${entries(r.statuses) || 'none'}`,
    `errors     ${r.failed === 0 ? 'none' : `${r.failed} failed, ${r.failuresPerSec}/s: ${entries(r.errors)}`}`,
    'sockets    id  remote                     requests   share',
  );
  for (const s of r.sockets) {
    lines.push(`           ${String(s.id).padStart(2)}  ${(s.remote ?? '-').padEnd(25)} ${String(s.requests).padStart(9)}  ${(s.share * 100).toFixed(1).padStart(5)}%`);
  }
  return lines.join('\n');
}

function entries(o: Record<string, number>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
