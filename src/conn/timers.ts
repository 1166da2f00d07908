// One process-wide timer for every deadline of every pool.
//
// Arming a deadline is a field write plus an array push: no Timeout object, no
// closure. A single native timer is kept scheduled for the earliest armed deadline.
// It is moved earlier only when a new deadline precedes it; a disarmed deadline is
// simply forgotten, and the timer, when it fires, finds nothing due and re-aims at the
// next one. In steady traffic (equal timeouts, requests finishing long before them)
// the native timer is re-created about once per timeout period, not per request.
//
// Resolution: a deadline fires between 0 and SLACK_MS after it is due. The native
// timer is unref'd: armed deadlines never keep the process alive by themselves.

/** Something with a deadline: a connection's phase timer or a request's overall timer. */
export interface Timed {
  /** When it is due, in `performance.now()` ms; 0 when disarmed. Owned by the clock. */
  deadline: number;
  /** Position in the clock's armed list, -1 when not armed. Owned by the clock. */
  clockIndex: number;
  /** Called once when the deadline passes. */
  expire(): void;
}

/** Deadlines this close together share one wake-up. */
const SLACK_MS = 1;

const armed: Timed[] = [];
const due: Timed[] = [];
let timer: NodeJS.Timeout | null = null;
let timerAt = Infinity;

export const now: () => number = performance.now.bind(performance);

/** Arms `t` to expire `ms` from now; 0 ms disarms it (a timer that is off costs nothing). */
export function arm(t: Timed, ms: number): void {
  if (ms <= 0) {
    disarm(t);
    return;
  }
  const at = now() + ms;
  t.deadline = at;
  if (t.clockIndex < 0) {
    t.clockIndex = armed.length;
    armed.push(t);
  }
  if (at + SLACK_MS < timerAt) schedule(at);
}

export function disarm(t: Timed): void {
  // Zeroed even when not in the list: a deadline taken out by fire() and disarmed by
  // an earlier callback of the same wake-up must not expire.
  t.deadline = 0;
  if (t.clockIndex >= 0) unlist(t);
}

function unlist(t: Timed): void {
  const i = t.clockIndex;
  // Swap-remove keeps the list dense without shifting.
  const last = armed.pop()!;
  if (last !== t) {
    armed[i] = last;
    last.clockIndex = i;
  }
  t.clockIndex = -1;
}

/** Number of armed deadlines (for tests and stats). */
export function armedCount(): number {
  return armed.length;
}

function schedule(at: number): void {
  if (timer !== null) clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(fire, Math.max(0, Math.ceil(at - now())));
  timer.unref();
}

function fire(): void {
  timer = null;
  timerAt = Infinity;
  const t = now() + SLACK_MS;
  let next = Infinity;
  for (let i = 0; i < armed.length; i++) {
    const d = armed[i]!.deadline;
    if (d <= t) due.push(armed[i]!);
    else if (d < next) next = d;
  }
  // Take every due deadline out of the list before running any callback, keeping
  // its deadline value. A callback may disarm or re-arm others that are due in this
  // same wake-up: a disarmed one (deadline 0) or a re-armed one (back in the list)
  // is skipped, so each fires at most once and never after being cancelled.
  for (let i = 0; i < due.length; i++) unlist(due[i]!);
  // After a stalled event loop several may be due: the earliest goes first.
  if (due.length > 1) due.sort(byDeadline);
  if (next !== Infinity) schedule(next);
  for (let i = 0; i < due.length; i++) {
    const d = due[i]!;
    due[i] = undefined as unknown as Timed;
    if (d.clockIndex >= 0 || d.deadline === 0) continue;
    d.deadline = 0;
    d.expire();
  }
  due.length = 0;
}

function byDeadline(a: Timed, b: Timed): number {
  return a.deadline - b.deadline;
}
