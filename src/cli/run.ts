// One thread's share of a run: its own pool, an optional warmup that counts for
// nothing, then the measured load; the result in a form that crosses threads
// (structured clone) for merge.ts. The main thread runs one of these itself with
// --workers 1, or each worker thread runs one (worker.ts).
import { NodePool } from '../node/pool.js';
import { Pool, type Client } from '../pool/pool.js';
import type { PoolOptions } from '../options.js';
import type { PoolStats } from '../pool/stats.js';
import type { HistogramState } from './histogram.js';
import { Load, type LoadPlan } from './load.js';
import { PipelineWatch } from './pipeline.js';

export interface ThreadPlan {
  backend: 'raw' | 'node';
  pool: PoolOptions;
  load: LoadPlan;
  warmupMs: number | null;
  /** Count pipelining from diagnostics events (a run with --pipelining above 1). */
  watchPipeline: boolean;
  /** Which worker this is (0 without workers): labels its sockets. */
  worker: number;
}

export interface SocketRow {
  worker: number;
  origin: string;
  id: number;
  remote: string | null;
  /** Responses completed on the slot during the measured run. */
  requests: number;
  /** Sockets connected again during the measured run (recycling, lost sockets). */
  reconnects: number;
  /** Dials that never connected during the measured run, counted apart from reconnects. */
  failedDials: number;
}

export interface ThreadResult {
  latency: HistogramState;
  serviceTime: HistogramState | null;
  statuses: [number, number][];
  errors: [string, number][];
  /** Failures by code and their cause's code ('HCP_CONNECT ECONNREFUSED'). */
  causes: [string, number][];
  /** Why the run stopped early by itself (nothing ever connected); null: it did not. */
  gaveUp: string | null;
  completed: number;
  failed: number;
  late: number;
  maxLateMs: number;
  unsent: number;
  perSecond: number[];
  elapsedMs: number;
  stoppedEarly: boolean;
  sockets: SocketRow[];
  bytesIn: number;
  bytesOut: number;
  pipelined: number;
  maxDepth: number;
}

export class ThreadRun {
  readonly client: Client;
  /** The load being measured, once it started (for progress). */
  load: Load | null = null;
  private stopped = false;

  /** Throws InvalidArgumentError for options the pool refuses (a bad header, say): nothing is sent then. */
  constructor(private readonly plan: ThreadPlan) {
    this.client = plan.backend === 'node' ? new NodePool(plan.pool) : new Pool(plan.pool);
  }

  /** Runs the warmup, if any, to its last response: what it did is subtracted from the measured run. */
  async warmup(): Promise<void> {
    const { warmupMs, load } = this.plan;
    if (warmupMs === null || this.stopped) return;
    const s = load.schedule;
    const schedule = s === null ? null : { ...s, total: Math.max(0, Math.ceil((warmupMs - s.offsetMs) / s.intervalMs)) };
    const warm = new Load(this.client, { ...load, requests: null, durationMs: warmupMs, schedule });
    this.load = warm;
    await warm.run();
    this.load = null;
  }

  /** The measured run from `start` (performance.now() ms of this thread). */
  async measure(start: number): Promise<ThreadResult> {
    const before = this.client.stats();
    const load = new Load(this.client, this.plan.load);
    this.load = load;
    if (this.stopped) load.stop();
    const pipeline = this.plan.watchPipeline ? new PipelineWatch() : null;
    pipeline?.start();
    await load.run(start);
    pipeline?.stop();
    const after = this.client.stats();
    await this.client.close();
    return {
      latency: load.latency.snapshot(),
      serviceTime: load.serviceTime?.snapshot() ?? null,
      statuses: [...load.statuses],
      errors: [...load.errors],
      causes: [...load.causes],
      gaveUp: load.gaveUp,
      completed: load.completed,
      failed: load.failed,
      late: load.late,
      maxLateMs: load.maxLateMs,
      unsent: load.unsent,
      perSecond: load.perSecond,
      elapsedMs: load.elapsedMs,
      stoppedEarly: load.stoppedEarly,
      ...socketRows(before, after, this.plan.worker),
      pipelined: pipeline?.pipelined ?? 0,
      maxDepth: pipeline?.maxDepth ?? 0,
    };
  }

  /** Ctrl-C: requests in flight finish, no new ones start (nor a measured run after a warmup). */
  stop(): void {
    this.stopped = true;
    this.load?.stop();
  }
}

/** What each socket did between two stats snapshots (the warmup's share taken out). */
function socketRows(before: PoolStats, after: PoolStats, worker: number): { sockets: SocketRow[]; bytesIn: number; bytesOut: number } {
  const was = new Map<string, { requests: number; reconnects: number; failedDials: number; bytesIn: number; bytesOut: number }>();
  for (const o of before.origins) for (const s of o.sockets) was.set(`${o.origin} ${s.id}`, s);
  const sockets: SocketRow[] = [];
  let bytesIn = 0;
  let bytesOut = 0;
  for (const o of after.origins) {
    for (const s of o.sockets) {
      const b = was.get(`${o.origin} ${s.id}`) ?? { requests: 0, reconnects: 0, failedDials: 0, bytesIn: 0, bytesOut: 0 };
      sockets.push({
        worker,
        origin: o.origin,
        id: s.id,
        remote: s.remoteAddress == null ? null : `${s.remoteAddress}:${s.remotePort}`,
        requests: s.requests - b.requests,
        reconnects: s.reconnects - b.reconnects,
        failedDials: s.failedDials - b.failedDials,
      });
      bytesIn += s.bytesIn - b.bytesIn;
      bytesOut += s.bytesOut - b.bytesOut;
    }
  }
  return { sockets, bytesIn, bytesOut };
}
