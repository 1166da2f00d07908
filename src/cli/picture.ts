// What the picture of a run shows (svg.ts draws it): built from the report and the
// merged histograms, in the RunPicture shape svg.ts takes.
import type { Histogram } from './histogram.js';
import type { Report } from './report.js';
import type { LegendFigures, RunPicture } from './svg.js';

/** Rows per halving of the distance to 100%: enough for a smooth curve. */
const TICKS = 5;
/** The percentiles the text report gives (report.ts `latency`). */
const REPORTED = [50, 90, 99, 99.9];

export function makePicture(r: Report, latency: Histogram, serviceTime: Histogram | null): RunPicture {
  const n = (x: number): string => x.toLocaleString('en-US');
  const rate = r.targetRate === null ? 'closed loop' : `-R ${n(r.targetRate)}/s`;
  const title = `${r.method} ${r.url} · ${r.backend} backend · ${r.size} socket${r.size === 1 ? '' : 's'}${r.workers > 1 ? ' each' : ''} · -c ${r.concurrency} · ${rate}`;
  const achieved = r.targetRate === null ? `${n(r.requestsPerSec)} req/s` : `${n(Math.round(r.achievedRate))} req/s achieved of ${n(r.targetRate)} target`;
  const parts = [achieved, ...(r.workers > 1 ? [`${r.workers} workers`] : []), `${Number((r.durationMs / 1000).toFixed(1))} s`];
  if (r.failed > 0) parts.push(`${n(r.failed)} failed`);
  // HdrHistogram's steps, and the report's own percentiles (99 is no step), so the curve
  // passes through the figures the report and the legend give.
  const points = (h: Histogram): RunPicture['latency'] => {
    const pts = h.percentiles(TICKS).map((p) => ({ percentile: p.percentile, ms: p.us / 1000 }));
    if (pts.length === 0) return pts;
    for (const p of REPORTED) if (!pts.some((q) => q.percentile === p)) pts.push({ percentile: p, ms: h.quantile(p / 100) / 1000 });
    return pts.sort((a, b) => a.percentile - b.percentile);
  };
  const legendOf = (l: Report['latency']): LegendFigures | null => (l === null ? null : { p50: l.p50, p99: l.p99, max: l.max });
  return {
    title,
    subtitle: parts.join(' · '),
    latency: points(latency),
    serviceTime: serviceTime === null ? null : points(serviceTime),
    perSecond: r.perSecond,
    targetRate: r.targetRate,
    sockets: r.sockets.map((s) => ({ label: `${r.workers > 1 ? `w${s.worker} ` : ''}#${s.id}`, requests: s.requests, share: s.share })),
    legend: { latency: legendOf(r.latency), serviceTime: r.serviceTime === null ? null : legendOf(r.serviceTime) },
  };
}
