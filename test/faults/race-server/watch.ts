// Worker thread for test/faults/races.test.ts: forks the race server and relays its
// reports to the test, and counts the connections it closed in a shared Int32Array,
// waking the test's thread (blocked in Atomics.wait) at each one.
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { args, closed } = workerData as { args: string[]; closed: Int32Array };
const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'server.js'), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
child.on('message', (msg: { closed?: number }) => {
  if (msg.closed !== undefined) {
    Atomics.add(closed, 0, 1);
    Atomics.notify(closed, 0);
  }
  parentPort!.postMessage(msg);
});
child.on('exit', (code, signal) => parentPort!.postMessage({ exit: code ?? signal }));
parentPort!.on('message', (msg: string) => {
  if (msg === 'stop') child.kill();
});
