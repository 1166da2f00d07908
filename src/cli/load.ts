// The load loop: `concurrency` workers send requests back to back until the count
// or the duration is reached (or stop() is called). A request either completes (a
// whole HTTP response, whatever its status) or fails (no response: connect, timeout,
// reset, parse); the two are counted apart, and only completed ones are timed, so a
// burst of fast refusals never reads as throughput or latency.
import type { Client } from '../raw/pool.js';
import type { Headers } from '../options.js';
import { Histogram } from './histogram.js';

export interface LoadPlan {
  method: string;
  path: string;
  headers: Headers | undefined;
  body: Buffer | null;
  concurrency: number;
  /** Stop after this many requests (completed or failed); null: run for `durationMs`. */
  requests: number | null;
  durationMs: number | null;
  timeout: number;
}

export class Load {
  /** Latency of completed requests only. */
  readonly latency = new Histogram();
  readonly statuses = new Map<number, number>();
  /** Failed requests by error `code`. */
  readonly errors = new Map<string, number>();
  /** Requests that got a whole response, any status. */
  completed = 0;
  /** Requests that got no response. */
  failed = 0;
  startedAt = 0;
  endedAt = 0;
  stoppedEarly = false;

  private started = 0;
  private stopping = false;
  private readonly client: Client;
  private readonly plan: LoadPlan;

  constructor(client: Client, plan: LoadPlan) {
    this.client = client;
    this.plan = plan;
  }

  /** Requests settled so far, completed or failed. */
  get settled(): number {
    return this.completed + this.failed;
  }

  /** Runs to the end of the plan; resolves when every worker has finished its last request. */
  async run(): Promise<void> {
    this.startedAt = performance.now();
    const timer = this.plan.durationMs === null ? null : setTimeout(() => (this.stopping = true), this.plan.durationMs);
    const workers: Promise<void>[] = [];
    for (let i = 0; i < this.plan.concurrency; i++) workers.push(this.worker());
    await Promise.all(workers);
    if (timer !== null) clearTimeout(timer);
    this.endedAt = performance.now();
  }

  /** Ends the run early (Ctrl-C): requests in flight finish, no new ones start. */
  stop(): void {
    if (!this.stopping) this.stoppedEarly = true;
    this.stopping = true;
  }

  get elapsedMs(): number {
    return (this.endedAt === 0 ? performance.now() : this.endedAt) - this.startedAt;
  }

  private async worker(): Promise<void> {
    const { plan, client } = this;
    const init = { method: plan.method, path: plan.path, headers: plan.headers, body: plan.body, timeout: plan.timeout };
    while (!this.stopping && (plan.requests === null || this.started < plan.requests)) {
      this.started++;
      const t0 = performance.now();
      try {
        const res = await client.request(init);
        this.latency.record((performance.now() - t0) * 1000);
        this.statuses.set(res.statusCode, (this.statuses.get(res.statusCode) ?? 0) + 1);
        this.completed++;
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? (err as Error).name ?? 'UNKNOWN');
        this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
        this.failed++;
      }
    }
  }
}
