// The final report: one object (printed as JSON with --json) and its text form.
// Completed requests (a whole response, of the expected status with --expect) and
// failed ones are reported apart: rates and latency are of completed requests,
// failures get their own count and rate. In the open model (-R) `latency` runs from
// each request's due time (corrected for coordinated omission) and `serviceTime`
// from its actual send; in a closed loop they are the same thing and `serviceTime`
// is null.
import type { Histogram } from './histogram.js';
import type { RunResult } from './merge.js';

/** Milliseconds. */
export interface Latency {
  /** Requests timed: the completed ones. */
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

export interface PerSecondStats {
  min: number;
  mean: number;
  stdev: number;
}

export interface Report {
  method: string;
  url: string;
  backend: string;
  /** Sockets per pool (one pool per worker). */
  size: number;
  /** Requests allowed in flight per socket (`--pipelining`). */
  pipelining: number;
  /** Requests written to a socket while an earlier one on it had not settled. */
  pipelined: number;
  /** Most requests seen in flight on one socket at once; 1: no pipelining. */
  pipelineDepth: number;
  concurrency: number;
  workers: number;
  /** Requests per second asked for with -R; null: closed loop. */
  targetRate: number | null;
  /** Completed requests per second, over the run (one decimal). */
  achievedRate: number;
  /** Requests made: succeeded + failed. */
  requests: number;
  /** Requests that got a whole response (of the --expect status, if given). */
  succeeded: number;
  /** Requests that got no response (connect, timeout, reset, parse, ...) or another status than --expect. */
  failed: number;
  durationMs: number;
  /** Succeeded requests per second, rounded. */
  requestsPerSec: number;
  failuresPerSec: number;
  bytesIn: number;
  bytesOut: number;
  bytesInPerSec: number;
  /** Of succeeded requests; null when none succeeded. With -R: from each request's due time. */
  latency: Latency | null;
  /** With -R: from each request's actual send; null in a closed loop (where that is `latency`). */
  serviceTime: Latency | null;
  /** With -R: requests that were due while all -c were in flight, and the longest such wait (ms). */
  late: number;
  maxLateMs: number;
  /** With -R and -d: requests due by the end that were never sent (all -c in flight until then). */
  unsent: number;
  /** Completed requests in each whole second of the run (a last partial second is left out). */
  perSecond: number[];
  perSecondStats: PerSecondStats | null;
  /** With --latency-table: the whole distribution (of `latency`). */
  latencyTable?: { percentile: number; ms: number; count: number }[];
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** Of `errors`, those with a cause by their cause's code: { HCP_CONNECT: { ECONNREFUSED: 5832 } }. */
  errorCauses: Record<string, Record<string, number>>;
  sockets: { worker: number; origin: string; id: number; remote: string | null; requests: number; share: number; reconnects: number; failedDials: number }[];
  warmupMs: number | null;
  expect: number | null;
  stoppedEarly: boolean;
  /** Why the run stopped before its end by itself (nothing ever connected); null: it did not. */
  gaveUp: string | null;
}

export interface RunInfo {
  method: string;
  url: string;
  backend: string;
  size: number;
  pipelining: number;
  concurrency: number;
  workers: number;
  rate: number | null;
  /** -d, if given. */
  durationMs: number | null;
  /** With -R: how long the timetable is (its requests at the rate); null in a closed loop. */
  scheduleMs: number | null;
  warmupMs: number | null;
  expect: number | null;
  latencyTable: boolean;
}

export function makeReport(r: RunResult, info: RunInfo): Report {
  // A timetable run lasts at least its timetable, even when its last answers come
  // early: -R 0.5 -n 1 is 0.5 req/s, not 1 per the 40 ms its one request took.
  const elapsedMs = info.scheduleMs === null ? r.elapsedMs : Math.max(r.elapsedMs, info.scheduleMs);
  const seconds = elapsedMs / 1000;
  const perSec = (n: number, digits: number): number => (seconds > 0 ? Math.round((n / seconds) * 10 ** digits) / 10 ** digits : 0);
  const total = r.sockets.reduce((n, s) => n + s.requests, 0);
  // Whole seconds of the run as asked (-d), or as it went (-n, Ctrl-C): what completes
  // after them (the last responses of a -d run) is a partial second, left out.
  const whole = Math.floor((info.durationMs !== null && !r.stoppedEarly && r.gaveUp === null ? info.durationMs : elapsedMs) / 1000);
  const perSecond = r.perSecond.slice(0, whole);
  while (perSecond.length < whole) perSecond.push(0); // seconds in which nothing completed
  const report: Report = {
    method: info.method,
    url: info.url,
    backend: info.backend,
    size: info.size,
    pipelining: info.pipelining,
    pipelined: r.pipelined,
    pipelineDepth: Math.max(1, r.maxDepth),
    concurrency: info.concurrency,
    workers: info.workers,
    targetRate: info.rate,
    achievedRate: perSec(r.completed, 1),
    requests: r.completed + r.failed,
    succeeded: r.completed,
    failed: r.failed,
    durationMs: Math.round(elapsedMs),
    requestsPerSec: perSec(r.completed, 0),
    failuresPerSec: perSec(r.failed, 2),
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    bytesInPerSec: perSec(r.bytesIn, 0),
    latency: latency(r.latency),
    serviceTime: r.serviceTime === null ? null : latency(r.serviceTime),
    late: r.late,
    maxLateMs: ms(r.maxLateMs * 1000),
    unsent: r.unsent,
    perSecond,
    perSecondStats: stats(perSecond),
    statuses: Object.fromEntries([...r.statuses].sort((a, b) => a[0] - b[0])),
    errors: Object.fromEntries([...r.errors].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    errorCauses: causes(r.causes),
    sockets: r.sockets.map((s) => ({ ...s, share: total === 0 ? 0 : s.requests / total })),
    warmupMs: info.warmupMs,
    expect: info.expect,
    stoppedEarly: r.stoppedEarly,
    gaveUp: r.gaveUp,
  };
  if (info.latencyTable) report.latencyTable = r.latency.percentiles().map((p) => ({ percentile: p.percentile, ms: ms(p.us), count: p.count }));
  return report;
}

const ms = (us: number): number => Math.round(us) / 1000;

/** 'HCP_CONNECT ECONNREFUSED' -> n, as { HCP_CONNECT: { ECONNREFUSED: n } }, most frequent cause first. */
function causes(flat: Map<string, number>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [key, n] of [...flat].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    const i = key.indexOf(' ');
    (out[key.slice(0, i)] ??= {})[key.slice(i + 1)] = n;
  }
  return out;
}

function latency(h: Histogram): Latency | null {
  if (h.count === 0) return null;
  return {
    count: h.count,
    min: ms(h.min),
    mean: ms(h.mean),
    p50: ms(h.quantile(0.5)),
    p90: ms(h.quantile(0.9)),
    p99: ms(h.quantile(0.99)),
    p99_9: ms(h.quantile(0.999)),
    max: ms(h.max),
  };
}

/** Of whole seconds; the standard deviation of the population (these are all the seconds there were). */
export function stats(xs: readonly number[]): PerSecondStats | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  return { min: Math.min(...xs), mean: Math.round(mean * 10) / 10, stdev: Math.round(Math.sqrt(variance) * 10) / 10 };
}

/** Achieved below target by more than this is said plainly. */
const SHORTFALL = 0.01;

export function formatReport(r: Report): string {
  const l = r.latency;
  const extra = `${r.workers > 1 ? `, ${r.workers} workers` : ''}${r.targetRate !== null ? `, rate ${r.targetRate}/s` : ''}`;
  const lines = [`target     ${r.url} (${r.backend} backend, ${r.size} socket${r.size === 1 ? '' : 's'}${r.workers > 1 ? ' each' : ''}, concurrency ${r.concurrency}${extra})${r.stoppedEarly ? ', stopped early' : ''}`];
  if (r.warmupMs !== null) lines.push(`warmup     ${seconds(r.warmupMs)} first, not counted`);
  // Only a run that allowed pipelining says anything about it, and then what it did.
  if (r.pipelining > 1) {
    lines.push(`pipelining ${r.pipelined === 0 ? 'none' : `${r.pipelined} requests pipelined, up to ${r.pipelineDepth} deep`} (--pipelining ${r.pipelining})`);
  }
  lines.push(`requests   ${r.succeeded} completed in ${(r.durationMs / 1000).toFixed(2)} s: ${r.requestsPerSec} req/s, ${bytes(r.bytesInPerSec)}/s in`);
  if (r.targetRate !== null) lines.push(...rateLines(r));
  if (l === null) lines.push('latency    none: no request completed');
  else if (r.serviceTime === null) lines.push(`latency    ${quantiles(l)}`);
  else {
    lines.push(`latency    ${quantiles(l)}   from each request's due time (corrected for coordinated omission)`);
    lines.push(`service    ${quantiles(r.serviceTime!)}   from each request's actual send`);
  }
  lines.push(...perSecondLines(r));
  lines.push(
    `status     ${entries(r.statuses) || 'none'}${r.expect === null ? '' : ` (expected ${r.expect})`}`,
    `errors     ${r.failed === 0 ? 'none' : `${r.failed} failed, ${r.failuresPerSec}/s: ${errorEntries(r)}`}`,
  );
  if (r.gaveUp !== null) lines.push(`stopped    ${r.gaveUp}`);
  lines.push(`sockets    ${r.workers > 1 ? 'worker  ' : ''}id  remote                     requests   share  reconnects  failed dials`);
  for (const s of r.sockets) {
    const w = r.workers > 1 ? `${String(s.worker).padStart(6)}  ` : '';
    lines.push(`           ${w}${String(s.id).padStart(2)}  ${(s.remote ?? '-').padEnd(25)} ${String(s.requests).padStart(9)}  ${(s.share * 100).toFixed(1).padStart(5)}%  ${String(s.reconnects).padStart(10)}  ${String(s.failedDials).padStart(12)}`);
  }
  if (r.latencyTable !== undefined) {
    lines.push(`latency distribution${r.serviceTime === null ? '' : ' (from due time)'}`, '           percentile          ms       count');
    for (const p of r.latencyTable) lines.push(`           ${percent(p.percentile).padStart(10)}  ${p.ms.toFixed(3).padStart(10)}  ${String(p.count).padStart(10)}`);
  }
  return lines.join('\n');
}

function rateLines(r: Report): string[] {
  const target = r.targetRate!;
  const short = (target - r.achievedRate) / target;
  const out =
    short > SHORTFALL
      ? [`rate       NOT REACHED: ${r.achievedRate} req/s achieved of ${target} target, ${(short * 100).toFixed(1)}% short`]
      : [`rate       ${r.achievedRate} req/s achieved of ${target} target`];
  if (r.late > 0) out.push(`           ${r.late} requests late (due with all ${r.concurrency} in flight), the latest by ${seconds(r.maxLateMs)}`);
  if (r.unsent > 0) out.push(`           ${r.unsent} requests due by the end never sent (all ${r.concurrency} in flight until then)`);
  return out;
}

function perSecondLines(r: Report): string[] {
  const s = r.perSecondStats;
  if (s === null) return ['per second none: the run was shorter than one second'];
  const out = [`per second min ${s.min}  mean ${s.mean}  stdev ${s.stdev} req/s over ${r.perSecond.length} whole second${r.perSecond.length === 1 ? '' : 's'}`];
  // Ten seconds a row: a long run stays readable.
  for (let i = 0; i < r.perSecond.length; i += 10) {
    const row = r.perSecond.slice(i, i + 10);
    out.push(`           ${`${i + 1}-${i + row.length}`.padEnd(8)} ${row.map((n) => String(n).padStart(7)).join('')}`);
  }
  return out;
}

function quantiles(l: Latency): string {
  return `p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l.p99_9} ms  max ${l.max} ms`;
}

function percent(p: number): string {
  return `${Number(p.toFixed(4))}%`;
}

function seconds(msValue: number): string {
  return msValue >= 1000 ? `${Number((msValue / 1000).toFixed(2))} s` : `${Number(msValue.toFixed(1))} ms`;
}

/** HCP_CONNECT: 5832 (ECONNREFUSED), or with several causes (ECONNREFUSED 5000, ENOTFOUND 832). */
function errorEntries(r: Report): string {
  return Object.entries(r.errors)
    .map(([code, n]) => {
      const c = Object.entries(r.errorCauses[code] ?? {});
      const why = c.length === 0 ? '' : c.length === 1 && c[0]![1] === n ? ` (${c[0]![0]})` : ` (${c.map(([k, m]) => `${k} ${m}`).join(', ')})`;
      return `${code}: ${n}${why}`;
    })
    .join(', ');
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
