// The final report: one object (printed as JSON with --json) and its text form.
import type { PoolStats } from '../pool/stats.js';
import type { Load } from './load.js';

export interface Report {
  url: string;
  backend: string;
  size: number;
  pipelining: number;
  concurrency: number;
  requests: number;
  succeeded: number;
  failed: number;
  durationMs: number;
  requestsPerSec: number;
  bytesIn: number;
  bytesOut: number;
  bytesInPerSec: number;
  /** Milliseconds. */
  latency: { min: number; mean: number; p50: number; p90: number; p99: number; p99_9: number; max: number };
  statuses: Record<string, number>;
  errors: Record<string, number>;
  sockets: { origin: string; id: number; remote: string | null; requests: number; share: number }[];
  stoppedEarly: boolean;
}

export function makeReport(load: Load, stats: PoolStats, info: { url: string; backend: string; size: number; pipelining: number; concurrency: number }): Report {
  const h = load.latency;
  const ms = (us: number): number => Math.round(us) / 1000;
  const seconds = load.elapsedMs / 1000;
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
    ...info,
    requests: load.done,
    succeeded: load.done - load.failed,
    failed: load.failed,
    durationMs: Math.round(load.elapsedMs),
    requestsPerSec: seconds > 0 ? Math.round(load.done / seconds) : 0,
    bytesIn: stats.totals.bytesIn,
    bytesOut: stats.totals.bytesOut,
    bytesInPerSec: seconds > 0 ? Math.round(stats.totals.bytesIn / seconds) : 0,
    latency: {
      min: ms(h.count === 0 ? 0 : h.min),
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
  const lines = [
    `target     ${r.url} (${r.backend} backend, ${r.size} sockets${r.pipelining > 1 ? `, pipelining ${r.pipelining}` : ''}, concurrency ${r.concurrency})${r.stoppedEarly ? ', stopped early' : ''}`,
    `requests   ${r.requests} in ${(r.durationMs / 1000).toFixed(2)} s: ${r.requestsPerSec} req/s, ${bytes(r.bytesInPerSec)}/s in`,
    `latency    p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l.p99_9} ms  max ${l.max} ms`,
    `status     ${entries(r.statuses) || 'none'}`,
    `errors     ${entries(r.errors) || 'none'}`,
    'sockets    id  remote                     requests   share',
  ];
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
