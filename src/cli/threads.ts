// The main thread's side of --workers N: starts a worker thread per plan, waits for
// all to be ready (pools made, warmups done), gives them one start time a little
// ahead so their per-second counts line up, and collects their results.
import { Worker } from 'node:worker_threads';
import type { ThreadPlan, ThreadResult } from './run.js';
import type { FromWorker, ToWorker } from './worker.js';

/** A worker's pool refused the options: the run does not start. */
export class InvalidOptions extends Error {}

export interface Threads {
  /** Resolves with every worker's result, in plan order. */
  readonly results: Promise<ThreadResult[]>;
  stop(): void;
}

/** Resolves once every worker is ready; rejects with InvalidOptions before any request is sent. */
export async function startThreads(plans: readonly ThreadPlan[]): Promise<Threads> {
  const workers = plans.map((plan) => new Worker(new URL('./worker.js', import.meta.url), { workerData: plan }));
  const send = (m: ToWorker): void => workers.forEach((w) => w.postMessage(m));
  const results: ThreadResult[] = new Array(plans.length);
  let ready = 0;
  let left = plans.length;
  let allReady!: () => void;
  let fail!: (err: Error) => void;
  let finished!: (r: ThreadResult[]) => void;
  const readyP = new Promise<void>((resolve, reject) => ((allReady = resolve), (fail = reject)));
  const resultsP = new Promise<ThreadResult[]>((resolve, reject) => {
    finished = resolve;
    const prev = fail;
    fail = (err) => (prev(err), reject(err));
  });
  resultsP.catch(() => {}); // seen by whoever awaits it; not unhandled while the ready phase fails
  // One worker failing ends the run: the others would otherwise keep the process alive.
  const failed = fail;
  fail = (err) => {
    failed(err);
    for (const w of workers) void w.terminate();
  };
  workers.forEach((w, i) => {
    w.on('error', (err) => fail(err));
    w.on('exit', (code) => {
      if (results[i] === undefined) fail(new Error(`worker ${i} exited with code ${code} before its result`));
    });
    w.on('message', (m: FromWorker) => {
      if (m.type === 'invalid') fail(new InvalidOptions(m.message));
      else if (m.type === 'ready') {
        if (++ready === plans.length) allReady();
      } else {
        results[i] = m.result;
        void w.terminate();
        if (--left === 0) finished(results);
      }
    });
  });
  try {
    await readyP;
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  // Far enough ahead for the message to reach every worker.
  send({ type: 'go', at: performance.timeOrigin + performance.now() + 20 });
  return { results: resultsP, stop: () => send({ type: 'stop' }) };
}
