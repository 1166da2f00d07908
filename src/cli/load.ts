// The load loop. `concurrency` lanes each carry one request at a time, through
// `client.dispatch()` with one handler object per lane, reused: no promise, no
// closure, no response object per request, and two clock reads per request.
//
// Closed model (no rate): a lane sends its next request as soon as its last one
// settles. Open model (`schedule`): requests are due on a fixed timetable; one timer
// sends every request that is due to the free lanes (at 50k/s dozens per tick), and a
// lane that settles while requests are overdue takes the oldest at once. A request due
// while no lane was free is late, never dropped: its wait counts in its latency, which
// runs from its due time (corrected for coordinated omission), besides its service time
// from the actual send.
//
// A request either completes (a whole HTTP response) or fails (no response: connect,
// timeout, reset, parse; or with `expect`, any other status); the two are counted
// apart, and only completed ones are timed, so a burst of fast refusals never reads as
// throughput or latency. A failure is counted by its error's `code` and, apart, by the code
// of its cause (ECONNREFUSED, ENOTFOUND, ECONNRESET), so a dead target says why. A run in
// which nothing ever connects (its first failures all dial errors, at least one per
// socket, and not one socket connected) stops there, with `gaveUp` saying so.
import type { Client } from '../pool/client.js';
import type { DispatchController, DispatchHandler } from '../pool/request.js';
import type { Headers, RequestInit } from '../options.js';
import { Histogram } from './histogram.js';
import type { TimetableShare } from './timetable.js';

export interface LoadPlan {
  method: string;
  path: string;
  headers: Headers | undefined;
  body: Buffer | null;
  concurrency: number;
  /** Closed model: stop after this many requests (completed or failed); null: run for `durationMs`. */
  requests: number | null;
  /** Stop after this long (open model: stop sending what is still due then). */
  durationMs: number | null;
  timeout: number;
  /** Open model: this thread's part of the timetable; null: closed loop. */
  schedule: TimetableShare | null;
  /** The only status that counts as completed; null: any. */
  expect: number | null;
}

/** Failures of a dial: no socket was had for the request. */
const DIAL_ERRORS = new Set(['HCP_CONNECT', 'HCP_CONNECT_TIMEOUT', 'HCP_TLS', 'HCP_TLS_TIMEOUT']);

/** One request in flight at a time; its own handler, reused request after request. */
class Lane implements DispatchHandler {
  /** When the request was due (open model) and when it was handed to the pool, performance.now() ms. */
  dueAt = 0;
  sentAt = 0;
  status = 0;
  /** Inside client.dispatch(): a request that settles there goes round the loop in send(), not deeper. */
  dispatching = false;
  again = false;

  constructor(private readonly load: Load) {}

  onResponseStart(_c: DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseEnd(): void {
    this.load.completed_(this, performance.now());
  }

  onResponseError(_c: DispatchController, error: Error): void {
    this.load.failed_(this, error, performance.now());
  }
}

export class Load {
  /** Completed requests: from the due time in the open model, from the send in the closed one. */
  readonly latency = new Histogram();
  /** Open model only: from the actual send (what a closed loop would call latency). */
  readonly serviceTime: Histogram | null;
  readonly statuses = new Map<number, number>();
  /** Failed requests by error `code`. */
  readonly errors = new Map<string, number>();
  /** Failed requests by `code` and their cause's code, as 'HCP_CONNECT ECONNREFUSED'; those with a cause only. */
  readonly causes = new Map<string, number>();
  /** Why the run stopped before its end by itself (nothing ever connected); null: it did not. */
  gaveUp: string | null = null;
  /** Requests that got a whole response (of the expected status, with `expect`). */
  completed = 0;
  failed = 0;
  /** Open model: requests due while no lane was free, and the longest such wait (ms). */
  late = 0;
  maxLateMs = 0;
  /** Open model with a duration: requests still due at the end, never sent. */
  unsent = 0;
  /** Completed requests in each second since the start (the last one partial). */
  readonly perSecond: number[] = [];
  startedAt = 0;
  endedAt = 0;
  stoppedEarly = false;

  /** Failures with no socket for the request: dial errors, or timeouts while dialing. */
  private dialFailures = 0;
  private started = 0;
  private inFlight = 0;
  private stopping = false;
  private readonly client: Client;
  private readonly plan: LoadPlan;
  private readonly init: RequestInit;
  /** Open model: lanes with nothing to do, and the next request of the timetable. */
  private readonly free: Lane[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private done: (() => void) | null = null;

  constructor(client: Client, plan: LoadPlan) {
    this.client = client;
    this.plan = plan;
    this.serviceTime = plan.schedule === null ? null : new Histogram();
    this.init = { method: plan.method, path: plan.path, headers: plan.headers, body: plan.body, timeout: plan.timeout, zeroCopy: true };
  }

  /** Requests settled so far, completed or failed. */
  get settled(): number {
    return this.completed + this.failed;
  }

  get elapsedMs(): number {
    return (this.endedAt === 0 ? performance.now() : this.endedAt) - this.startedAt;
  }

  /**
   * Runs to the end of the plan; resolves when the last request has settled. `start`
   * (performance.now() ms, about now): the time the run counts from, shared by workers.
   */
  run(start = performance.now()): Promise<void> {
    this.startedAt = start;
    const { plan } = this;
    const finished = new Promise<void>((resolve) => (this.done = resolve));
    if (plan.durationMs !== null) this.deadline = setTimeout(this.onDeadline, Math.max(0, start + plan.durationMs - performance.now()));
    const lanes = Array.from({ length: plan.concurrency }, () => new Lane(this));
    if (plan.schedule === null) {
      const now = performance.now();
      for (const lane of lanes) this.sendClosed(lane, now);
    } else {
      this.free.push(...lanes);
      this.tick();
    }
    this.maybeDone();
    return finished;
  }

  /** Ends the run early (Ctrl-C): requests in flight finish, no new ones start. */
  stop(): void {
    if (!this.stopping) this.stoppedEarly = true;
    this.halt();
  }

  // ---- from the lanes

  completed_(lane: Lane, now: number): void {
    this.inFlight--;
    const status = lane.status;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (this.plan.expect !== null && status !== this.plan.expect) {
      this.count(`UNEXPECTED_STATUS_${status}`);
    } else {
      this.completed++;
      this.latency.record((now - lane.dueAt) * 1000);
      this.serviceTime?.record((now - lane.sentAt) * 1000);
      const s = Math.floor((now - this.startedAt) / 1000);
      while (this.perSecond.length <= s) this.perSecond.push(0);
      this.perSecond[s]!++;
    }
    this.after(lane, now);
  }

  failed_(lane: Lane, error: Error, now: number): void {
    this.inFlight--;
    const code = String((error as { code?: unknown }).code ?? error.name ?? 'UNKNOWN');
    this.count(code);
    // What under the code: the cause's own code, else for a timeout while dialing its phase.
    const phase = (error as { phase?: unknown }).phase;
    const causeCode = (error.cause as { code?: unknown } | undefined)?.code;
    const cause = causeCode !== undefined ? String(causeCode) : phase === 'dial' || phase === 'tls' ? `during ${phase}` : null;
    if (cause !== null) {
      const key = `${code} ${cause}`;
      this.causes.set(key, (this.causes.get(key) ?? 0) + 1);
    }
    const dial = DIAL_ERRORS.has(code) || phase === 'dial' || phase === 'tls';
    if (dial) this.dialFailures++;
    if (dial && this.completed === 0 && this.statuses.size === 0 && !this.stopping) this.checkDead(code, cause);
    this.after(lane, now);
  }

  /**
   * Every failure so far a dial error: once there are as many as sockets (each such
   * failure tried every socket) and no socket has ever connected, more of the same would
   * only repeat them, so the run stops with a line saying so.
   */
  private checkDead(code: string, cause: string | null): void {
    if (this.dialFailures !== this.failed) return;
    const { totals } = this.client.stats();
    if (this.failed < totals.sockets || totals.connected !== 0 || totals.requests !== 0 || totals.reconnects !== 0) return;
    const why = code === 'HCP_CONNECT_TIMEOUT' ? 'connect timed out' : code === 'HCP_TLS_TIMEOUT' ? 'TLS handshake timed out'
      : cause === null ? code : code === 'HCP_CONNECT' ? cause : `${code} ${cause}`;
    this.gaveUp = `early: nothing connected, every dial of all ${totals.sockets} sockets failed (${why})`;
    this.halt();
  }

  // ---- both models

  private count(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    this.failed++;
  }

  /** A lane's request settled at `now`: give it its next one, or let it rest. */
  private after(lane: Lane, now: number): void {
    if (this.plan.schedule === null) this.sendClosed(lane, now);
    else this.afterOpen(lane, now);
    this.maybeDone();
  }

  private send(lane: Lane): void {
    this.inFlight++;
    if (lane.dispatching) {
      lane.again = true;
      return;
    }
    lane.dispatching = true;
    do {
      lane.again = false;
      try {
        this.client.dispatch(this.init, lane);
      } catch (err) {
        // A call the pool refuses at once (closed, or a request it cannot make): it would
        // refuse every next one the same way, so the run ends here.
        this.inFlight--;
        this.count(String((err as { code?: unknown }).code ?? (err as Error).name));
        this.halt();
      }
    } while (lane.again);
    lane.dispatching = false;
  }

  private halt(): void {
    this.stopping = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.done === null || this.inFlight !== 0) return;
    if (!this.stopping && (this.plan.schedule === null ? !this.closedDone() : this.next < this.plan.schedule.total)) return;
    if (this.deadline !== null) clearTimeout(this.deadline);
    if (this.timer !== null) clearTimeout(this.timer);
    this.endedAt = performance.now();
    const done = this.done;
    this.done = null;
    done();
  }

  private readonly onDeadline = (): void => {
    // A timer may fire a little before its time by performance.now(): the last
    // requests of the timetable are not due yet then, and must not count as unsent.
    const left = this.startedAt + this.plan.durationMs! - performance.now();
    if (left > 0) {
      this.deadline = setTimeout(this.onDeadline, left);
      return;
    }
    this.deadline = null;
    if (this.plan.schedule !== null) {
      // Whatever free lanes can take still goes; what is due beyond them is left unsent.
      this.dueNow(performance.now());
      this.unsent = this.plan.schedule.total - this.next;
      this.next = this.plan.schedule.total;
    }
    this.halt();
  };

  // ---- closed model

  private closedDone(): boolean {
    return this.plan.requests !== null && this.started >= this.plan.requests;
  }

  private sendClosed(lane: Lane, now: number): void {
    if (this.stopping || this.closedDone()) return;
    this.started++;
    lane.dueAt = lane.sentAt = now;
    this.send(lane);
  }

  // ---- open model

  private afterOpen(lane: Lane, now: number): void {
    const t = this.plan.schedule!;
    if (!this.stopping && this.next < t.total) {
      const due = this.dueAt(this.next);
      if (due <= now) {
        // Overdue, and no other lane free: it has been waiting for this one.
        if (this.free.length === 0) {
          this.late++;
          if (now - due > this.maxLateMs) this.maxLateMs = now - due;
        }
        this.next++;
        this.sendOpen(lane, due, now);
        return;
      }
    }
    this.free.push(lane);
    this.arm(now);
  }

  private dueAt(i: number): number {
    const t = this.plan.schedule!;
    return this.startedAt + t.offsetMs + i * t.intervalMs;
  }

  private sendOpen(lane: Lane, due: number, now: number): void {
    lane.dueAt = due;
    lane.sentAt = now;
    this.send(lane);
  }

  /** The one scheduler timer: sends everything due, then sleeps until the next is. */
  private readonly tick = (): void => {
    this.timer = null;
    const now = performance.now();
    this.dueNow(now);
    this.arm(now);
  };

  private dueNow(now: number): void {
    const total = this.plan.schedule!.total;
    while (!this.stopping && this.free.length !== 0 && this.next < total) {
      const due = this.dueAt(this.next);
      if (due > now) break;
      this.next++;
      this.sendOpen(this.free.pop()!, due, now);
    }
  }

  private arm(now: number): void {
    // No free lane: the next settlement takes the next request; nothing left: no timer.
    if (this.timer !== null || this.stopping || this.free.length === 0 || this.next >= this.plan.schedule!.total) return;
    this.timer = setTimeout(this.tick, Math.max(0, this.dueAt(this.next) - now));
  }
}
