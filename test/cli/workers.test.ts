// --workers N: worker threads with their own pools and shares of -c, -n and -R,
// merged exactly. The servers count what they received; the merged report must add
// up to it, status by status and socket by socket.
import * as os from 'node:os';
import { expect } from 'chai';
import { cleanup, spawnChild } from '../helpers.js';
import { countingServer, main, runJSON } from './run.js';

describe('cli: --workers', function () {
  this.timeout(30_000);
  afterEach(cleanup);

  it('merges counts exactly: statuses, errors, histogram and sockets add up to what the server received', async () => {
    const sent = new Map<number, number>();
    const { url, seen } = await countingServer((_req, res, i) => {
      res.statusCode = i % 7 === 0 ? 404 : i % 5 === 0 ? 503 : 200;
      sent.set(res.statusCode, (sent.get(res.statusCode) ?? 0) + 1);
      res.end('x');
    });
    const { code, report } = await runJSON([url + '/', '-n', '1001', '--workers', '3', '-c', '7', '--size', '2']);
    expect(code).to.equal(0);
    expect(seen.requests).to.equal(1001);
    expect(report).to.include({ workers: 3, requests: 1001, succeeded: 1001, failed: 0, concurrency: 7 });
    expect(report.statuses).to.deep.equal(Object.fromEntries([...sent].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])));
    expect(report.latency.count).to.equal(1001);
    // Each worker's own pool: 3 x 2 sockets, every request on one of them.
    expect(report.sockets.map((s: { worker: number }) => s.worker)).to.deep.equal([0, 0, 1, 1, 2, 2]);
    expect(report.sockets.reduce((n: number, s: { requests: number }) => n + s.requests, 0)).to.equal(1001);
    // -n 1001 over 3 workers: 334, 334, 333.
    const perWorker = [0, 1, 2].map((w) => report.sockets.filter((s: { worker: number }) => s.worker === w).reduce((n: number, s: { requests: number }) => n + s.requests, 0));
    expect(perWorker).to.deep.equal([334, 334, 333]);
    expect(seen.connections).to.equal(6);
  });

  it('merges failures and expected-status failures across workers', async () => {
    const { url, seen } = await countingServer((_req, res, i) => {
      res.statusCode = i % 4 === 0 ? 500 : 200;
      res.end();
    });
    const { code, report } = await runJSON([url + '/', '-n', '400', '--workers', '2', '-c', '4', '--expect', '200']);
    expect(code).to.equal(1);
    expect(seen.requests).to.equal(400);
    expect(report).to.include({ requests: 400, succeeded: 300, failed: 100 });
    expect(report.errors).to.deep.equal({ UNEXPECTED_STATUS_500: 100 });
    expect(report.statuses).to.deep.equal({ '200': 300, '500': 100 });
    expect(report.latency.count).to.equal(300);
  });

  it('keeps one timetable across workers: -R 300 -n 301 over 2 workers sends 301, with corrected and service times merged', async () => {
    const { url, seen } = await countingServer();
    const { code, report } = await runJSON([url + '/', '-R', '300', '-n', '301', '--workers', '2', '-c', '4']);
    expect(code).to.equal(0);
    expect(seen.requests).to.equal(301);
    expect(seen.arrivals.at(-1)! - seen.arrivals[0]!).to.be.at.least(900); // 300 intervals of 3.3 ms at least
    expect(report).to.include({ workers: 2, targetRate: 300, requests: 301 });
    expect(report.latency.count).to.equal(301);
    expect(report.serviceTime.count).to.equal(301);
  });

  it('allows more workers than cores, with a one-line note', async () => {
    const n = os.availableParallelism() + 1;
    const { url, seen } = await countingServer();
    const { code, report, stderr } = await runJSON([url + '/', '-n', String(4 * n), '--workers', String(n), '-c', String(n)]);
    expect(code).to.equal(0);
    expect(stderr).to.equal(`http-client-pool: note: --workers ${n} on ${n - 1} cores: the workers share them\n`);
    expect(seen.requests).to.equal(4 * n);
    expect(report.requests).to.equal(4 * n);
  });

  it('runs against the embedded server (in its own thread) with workers', async () => {
    const { code, report } = await runJSON(['-n', '300', '--workers', '2', '-c', '2', '--size', '1']);
    expect(code).to.equal(0);
    expect(report).to.include({ requests: 300, succeeded: 300, workers: 2 });
    expect(report.statuses).to.deep.equal({ '200': 300 });
  });

  it('stops every worker at Ctrl-C and still reports what they did, all of it', async () => {
    let flowing!: () => void;
    const started = new Promise<void>((resolve) => (flowing = resolve));
    const { url, seen } = await countingServer((_req, res, i) => {
      if (i === 200) flowing();
      res.end('ok');
    });
    const child = spawnChild(main, [url + '/', '-d', '60s', '--workers', '2', '-c', '4', '--json'], { ipc: false });
    await started;
    child.process.kill('SIGINT');
    const { code, out } = await child.exited;
    expect(code).to.equal(0);
    const report = JSON.parse(out);
    expect(report.stoppedEarly).to.equal(true);
    expect(report.requests).to.equal(seen.requests); // requests in flight at Ctrl-C finished and are counted
    expect(report.sockets.reduce((n: number, s: { requests: number }) => n + s.requests, 0)).to.equal(seen.requests);
  });
});
