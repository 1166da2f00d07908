// The open model (-R): a fixed timetable, latency from each request's due time, the
// late requests counted and never dropped, -c still the bound. Loopback servers in
// this process; every check counts requests or compares bounds no machine speed can
// cross (a schedule cannot be finished early; a stalled answer cannot come sooner).
import { expect } from 'chai';
import { cleanup, httpServer } from '../helpers.js';
import { countingServer, run, runJSON } from './run.js';

describe('cli: constant rate (-R)', function () {
  this.timeout(30_000);
  afterEach(cleanup);

  it('sends the timetable exactly: 200/s for 2 s is 400 requests, spread over the 2 s, and says the rate was held', async () => {
    const { url, seen } = await countingServer();
    // -c 400: a lane for every request, so that even a server slowed by a loaded machine
    // at the very end cannot leave one unsent; the pool queues what its sockets cannot take.
    const { code, report } = await runJSON([url + '/', '-R', '200', '-d', '2s', '-c', '400']);
    expect(code).to.equal(0);
    // A closed loop would send thousands; a schedule cannot be run through faster than it is due.
    expect(seen.requests).to.equal(400);
    expect(seen.arrivals.at(-1)! - seen.arrivals[0]!).to.be.at.least(1900);
    expect(report).to.include({ targetRate: 200, requests: 400, succeeded: 400, failed: 0, unsent: 0 });
    // At most 400 in the 1.995 s to the last one due; below only by the last answers' time.
    expect(report.achievedRate).to.be.within(150, 200.5);
    expect(report.latency.count).to.equal(400);
    expect(report.serviceTime.count).to.equal(400);
    expect(report.perSecond).to.have.length(2);
    expect(report.perSecond[0] + report.perSecond[1]).to.be.at.most(400);
  });

  it('shares -n among the lanes in the open model too: -R with -n sends exactly n', async () => {
    const { url, seen } = await countingServer();
    const { code, report } = await runJSON([url + '/', '-R', '500', '-n', '123', '-c', '4']);
    expect(code).to.equal(0);
    expect(seen.requests).to.equal(123);
    expect(report).to.include({ requests: 123, succeeded: 123, unsent: 0 });
  });

  it('times requests from their due time: a server stall shows in the latency, not only in the service time', async () => {
    // Requests 20 and 21 (one on each of the 2 lanes) are held until 1 s after the first
    // of them: everything due meanwhile waits (late), and is sent as the lanes free up,
    // none dropped.
    let release: number | null = null;
    const { url, seen } = await countingServer((_req, res, i) => {
      if (i !== 20 && i !== 21) return void res.end('ok');
      release ??= performance.now() + 1000;
      setTimeout(() => res.end('late'), release - performance.now());
    });
    const { code, report } = await runJSON([url + '/', '-R', '100', '-n', '150', '-c', '2', '--size', '2']);
    expect(code).to.equal(0);
    expect(seen.requests).to.equal(150); // late, never dropped
    expect(seen.maxOpen).to.be.at.most(2); // -c still bounds what is in flight
    expect(report).to.include({ requests: 150, succeeded: 150 });
    // About 100 requests were due during the stall with both lanes taken: late, the
    // first of them by nearly the whole stall.
    expect(report.late).to.be.at.least(50);
    expect(report.maxLateMs).to.be.at.least(400);
    // (950: the server's own timer may fire a little early.)
    expect(report.latency.max).to.be.at.least(950);
    expect(report.serviceTime.max).to.be.at.least(950); // the stalled requests themselves
    // Everything due during the stall carries its wait in the corrected latency only.
    expect(report.latency.p50).to.be.greaterThan(report.serviceTime.p50);
    expect(report.latency.p90).to.be.at.least(300);
    expect(report.latency.p90).to.be.greaterThan(report.serviceTime.p90);
  });

  it('says plainly when the target rate was not reached, and by how much', async () => {
    // One lane, each answer 50 ms late: at most 20/s, whatever the machine, of 100 asked.
    const { url, seen } = await countingServer((_req, res) => setTimeout(() => res.end('slow'), 50));
    const text = await run([url + '/', '-R', '100', '-d', '1s', '-c', '1', '--size', '1']);
    expect(text.code).to.equal(0);
    expect(seen.requests).to.be.at.most(21);
    const m = /^rate +NOT REACHED: ([\d.]+) req\/s achieved of 100 target, ([\d.]+)% short$/m.exec(text.stdout);
    expect(m, text.stdout).to.not.equal(null);
    expect(Number(m![1])).to.be.at.most(21);
    expect(Number(m![2])).to.be.at.least(79);
    expect(text.stdout).to.match(/^ +\d+ requests late \(due with all 1 in flight\), the latest by [\d.]+ (ms|s)$/m);
    // What was due by the end but never had a lane is said too, not dropped silently.
    const unsent = /^ +(\d+) requests due by the end never sent \(all 1 in flight until then\)$/m.exec(text.stdout);
    expect(unsent, text.stdout).to.not.equal(null);
    expect(Number(unsent![1]) + seen.requests).to.equal(100);
    expect(text.stdout).to.match(/^latency .* from each request's due time \(corrected for coordinated omission\)$/m);
    expect(text.stdout).to.match(/^service .* from each request's actual send$/m);
  });

  it('counts the rate over the timetable, not over the time its answers took', async () => {
    // At 0.5/s one request is due in 1 s (at 0 s): its answer takes milliseconds, the run 1 s.
    const { url, seen } = await countingServer();
    const { report } = await runJSON([url + '/', '-R', '0.5', '-d', '1s']);
    expect(seen.requests).to.equal(1);
    expect(report).to.include({ requests: 1, durationMs: 1000, achievedRate: 1, requestsPerSec: 1 });
  });

  it('says nothing about a rate in a closed loop, and has no service time there', async () => {
    const { url } = await httpServer((_req, res) => res.end('ok'));
    const { report } = await runJSON([url + '/', '-n', '50']);
    expect(report).to.include({ targetRate: null, serviceTime: null, late: 0, unsent: 0 });
    const text = await run([url + '/', '-n', '50']);
    expect(text.stdout).not.to.match(/^rate /m);
    expect(text.stdout).not.to.match(/^service /m);
  });
});
