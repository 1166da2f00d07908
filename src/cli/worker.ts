// A load worker thread (--workers N): runs its ThreadPlan (workerData) and answers
// the main thread (threads.ts): 'invalid' if its pool refuses the options, 'ready'
// after its warmup, then on 'go' the measured run from the common start time, and
// its result. 'stop' is Ctrl-C.
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { ThreadRun, type ThreadPlan } from './run.js';

export type ToWorker = { type: 'go'; at: number } | { type: 'stop' };
export type FromWorker = { type: 'invalid'; message: string } | { type: 'ready' } | { type: 'result'; result: import('./run.js').ThreadResult };

const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);

let run: ThreadRun | null = null;
try {
  run = new ThreadRun(workerData as ThreadPlan);
} catch (err) {
  if (!(err instanceof InvalidArgumentError)) throw err;
  post({ type: 'invalid', message: err.message });
}

if (run !== null) {
  const r = run;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') r.stop();
    else {
      // The common start, in this thread's clock (each thread's performance.now() has its own origin).
      const start = m.at - performance.timeOrigin;
      const go = (): void => void r.measure(start).then((result) => post({ type: 'result', result }));
      setTimeout(go, Math.max(0, start - performance.now()));
    }
  });
  void r.warmup().then(() => post({ type: 'ready' }));
}
