// The open model's fixed timetable (as wrk2 keeps it): request i is due at
// start + i / rate, whatever the responses do. Pure arithmetic, no clock: the load
// loop asks it what is due at the time it read. With W workers, worker w takes
// requests w, w + W, w + 2W, ... of the one timetable, so together they keep it
// exactly (not W timetables that each round their own count).

/** Requests on the timetable: `requests`, or those due strictly before the end (2 s at 200/s: 400). */
export function timetableTotal(rate: number, requests: number | null, durationMs: number | null): number {
  return requests ?? Math.ceil(((durationMs ?? 0) * rate) / 1000 - 1e-9);
}

/** Worker w's part of a timetable of `total` requests at `rate`, shared by `workers`. */
export interface TimetableShare {
  /** Milliseconds after the common start when this worker's first request is due. */
  offsetMs: number;
  /** Milliseconds between two of this worker's requests. */
  intervalMs: number;
  total: number;
}

export function timetableShare(rate: number, total: number, workers: number, w: number): TimetableShare {
  return { offsetMs: (w * 1000) / rate, intervalMs: (workers * 1000) / rate, total: shares(total, workers)[w]! };
}

/** `total` spread over `parts` as evenly as whole numbers allow, the remainder to the first ones. */
export function shares(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const rest = total - base * parts;
  return Array.from({ length: parts }, (_, i) => base + (i < rest ? 1 : 0));
}
