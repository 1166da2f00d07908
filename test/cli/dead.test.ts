// A target that never answers a dial: the report names the cause under the error's code
// (ECONNREFUSED, ENOTFOUND, a timeout while dialing), counts failed dials apart from
// reconnects (none: no socket ever connected), and the run stops early with a line saying
// so instead of failing thousands of requests for its whole duration. And a target that
// did connect is never given up on.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { blackhole, cleanup, freePort } from '../helpers.js';
import { countingServer, main, run, runJSON } from './run.js';

const nxdomain = pathToFileURL(path.join(path.dirname(main), '..', '..', 'build', 'cli', 'nxdomain.js')).href;

// Long enough that a run which does not stop early fails its test by the test's timeout.
const LONG = ['-d', '120s'];

describe('cli: a dead target', function () {
  this.timeout(20_000);
  afterEach(cleanup);

  it('a refused port: HCP_CONNECT (ECONNREFUSED), failed dials and no reconnects, stopped early with its line, exit 1', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const { code, report } = await runJSON([url, ...LONG, '--size', '4', '-c', '8']);
    expect(code).to.equal(1);
    expect(report.succeeded).to.equal(0);
    expect(Object.keys(report.errors)).to.deep.equal(['HCP_CONNECT']);
    expect(report.errorCauses).to.deep.equal({ HCP_CONNECT: { ECONNREFUSED: report.errors.HCP_CONNECT } });
    expect(report.gaveUp).to.equal('early: nothing connected, every dial of all 4 sockets failed (ECONNREFUSED)');
    expect(report.durationMs).to.be.below(120_000);
    expect(report.sockets.map((s: { reconnects: number }) => s.reconnects)).to.deep.equal([0, 0, 0, 0]);
    expect(report.sockets.every((s: { failedDials: number }) => s.failedDials >= 1), JSON.stringify(report.sockets)).to.equal(true);

    const text = await run([url, ...LONG, '--size', '2', '-c', '2']);
    expect(text.code).to.equal(1);
    expect(text.stdout).to.match(/^errors +\d+ failed, [\d.]+\/s: HCP_CONNECT: \d+ \(ECONNREFUSED\)$/m);
    expect(text.stdout).to.match(/^stopped +early: nothing connected, every dial of all 2 sockets failed \(ECONNREFUSED\)$/m);
    expect(text.stdout).to.match(/^sockets +id +remote +requests +share +reconnects +failed dials$/m);
    expect(text.stdout).to.match(/^ +0 +- +0 +0\.0% +0 +[1-9]\d*$/m);
  });

  it('a name that does not resolve: HCP_CONNECT (ENOTFOUND), told apart from a refused port', async () => {
    const { code, report } = await runJSON(['http://api.internal.invalid/', ...LONG, '--size', '2', '-c', '2'], ['--import', nxdomain]);
    expect(code).to.equal(1);
    expect(report.errorCauses).to.deep.equal({ HCP_CONNECT: { ENOTFOUND: report.errors.HCP_CONNECT } });
    expect(report.gaveUp).to.equal('early: nothing connected, every dial of all 2 sockets failed (ENOTFOUND)');
  });

  it('a connect that never completes: the request timeout while dialing is shown as such, and the run stops', async () => {
    const port = await blackhole();
    const { code, report } = await runJSON([`http://127.0.0.1:${port}/`, ...LONG, '--size', '2', '-c', '2', '--timeout', '200']);
    expect(code).to.equal(1);
    expect(report.errorCauses).to.deep.equal({ HCP_REQUEST_TIMEOUT: { 'during dial': report.errors.HCP_REQUEST_TIMEOUT } });
    expect(report.gaveUp).to.equal('early: nothing connected, every dial of all 2 sockets failed (HCP_REQUEST_TIMEOUT during dial)');
  });

  it('a target that answered once is not given up on when its port then refuses', async () => {
    const { url, server } = await countingServer((_req, res) => {
      res.setHeader('connection', 'close');
      res.end('ok');
      server.close(); // stops listening: every dial after this one is refused
    });
    const { code, report } = await runJSON([url + '/', '-d', '1s', '--size', '2', '-c', '2']);
    expect(code).to.equal(1);
    expect(report.succeeded).to.be.at.least(1);
    expect(report.gaveUp).to.equal(null);
    expect(report.durationMs).to.be.at.least(1000);
    expect(report.errorCauses.HCP_CONNECT).to.have.property('ECONNREFUSED');
  });
});
