// The flags autocannon users expect: --warmup, --expect, TLS files, -S, recycling,
// the per-second table, --latency-table and --svg; and bad values of the new flags
// end to end: one line, exit 2, nothing sent.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { cleanup, defer, fixture, fixturesDir, httpsServer } from '../helpers.js';
import { percentileSteps } from '../../dist/cli/histogram.js';
import { countingServer, run, runJSON } from './run.js';
import { startProxy } from '../proxy.js';

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-cli-'));
  defer(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('cli: flags', function () {
  this.timeout(30_000);
  afterEach(cleanup);

  it('--warmup: what the warmup sent is counted nowhere in the report', async () => {
    const { url, seen } = await countingServer();
    const { code, report } = await runJSON([url + '/', '--warmup', '300ms', '-n', '50', '-c', '2', '--size', '2']);
    expect(code).to.equal(0);
    expect(seen.requests).to.be.greaterThan(50); // the warmup's requests reached the server
    expect(report).to.include({ requests: 50, succeeded: 50, warmupMs: 300 });
    expect(report.statuses).to.deep.equal({ '200': 50 });
    expect(report.latency.count).to.equal(50);
    expect(report.sockets.reduce((n: number, s: { requests: number }) => n + s.requests, 0)).to.equal(50);
    const text = await run([url + '/', '--warmup', '200ms', '-n', '5']);
    expect(text.stdout).to.match(/^warmup +200 ms first, not counted$/m);
  });

  it('--expect: any other status is a failure of its own code, and exits 1', async () => {
    const { url } = await countingServer((_req, res, i) => {
      res.statusCode = i % 2 === 0 ? 200 : 503;
      res.end();
    });
    const { code, report } = await runJSON([url + '/', '-n', '20', '-c', '1', '--expect', '200']);
    expect(code).to.equal(1);
    expect(report).to.include({ requests: 20, succeeded: 10, failed: 10, expect: 200 });
    expect(report.statuses).to.deep.equal({ '200': 10, '503': 10 });
    expect(report.errors).to.deep.equal({ UNEXPECTED_STATUS_503: 10 });
    expect(report.latency.count).to.equal(10); // failures are not timed
    const ok = await runJSON([url + '/', '-n', '20', '-c', '1']);
    expect(ok.code).to.equal(0); // without --expect a 503 is a response like any other
  });

  it('--ca verifies the server against that CA; without it the same run fails', async () => {
    const { port } = await httpsServer((_req, res) => res.end('tls'));
    const url = `https://localhost:${port}/`;
    const good = await runJSON([url, '-n', '20', '--ca', path.join(fixturesDir, 'ca.pem')]);
    expect(good.code).to.equal(0);
    expect(good.report).to.include({ succeeded: 20, failed: 0 });
    const bad = await runJSON([url, '-n', '4', '-c', '1', '--size', '1']);
    expect(bad.code).to.equal(1);
    expect(bad.report.succeeded).to.equal(0);
    expect(Object.keys(bad.report.errors)).to.deep.equal(['HCP_TLS']);
  });

  it('--cert/--key present a client certificate to a server that requires one', async () => {
    let authorized = 0;
    const { port } = await httpsServer(
      (req, res) => {
        if ((req.socket as import('node:tls').TLSSocket).authorized) authorized++;
        res.end('mtls');
      },
      { requestCert: true, rejectUnauthorized: true, ca: fixture('ca.pem') },
    );
    const url = `https://localhost:${port}/`;
    const ca = path.join(fixturesDir, 'ca.pem');
    const r = await runJSON([url, '-n', '10', '--ca', ca, '--cert', path.join(fixturesDir, 'client.pem'), '--key', path.join(fixturesDir, 'client-key.pem')]);
    expect(r.code).to.equal(0);
    expect(authorized).to.equal(10);
    const without = await runJSON([url, '-n', '2', '-c', '1', '--size', '1', '--ca', ca]);
    expect(without.code).to.equal(1);
    expect(authorized).to.equal(10);
  });

  it('-S sends over a unix socket, with the URL giving Host and path', async () => {
    const sock = path.join(tmpDir(), 'http.sock');
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      res.end('unix');
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    defer(() => new Promise((resolve) => server.close(resolve)));
    const { code, report } = await runJSON(['http://example.test:8080/over/unix?x=1', '-S', sock, '-n', '12', '-c', '2']);
    expect(code).to.equal(0);
    expect(report.succeeded).to.equal(12);
    expect(seen).to.deep.equal(new Array(12).fill('example.test:8080 /over/unix?x=1'));
  });

  it('--max-requests-per-conn recycles sockets, and the socket table shows the re-dials', async () => {
    const { url, seen } = await countingServer();
    const { code, report } = await runJSON([url + '/', '-n', '100', '-c', '1', '--size', '1', '--max-requests-per-conn', '10']);
    expect(code).to.equal(0);
    expect(seen.connections).to.equal(10);
    expect(report.sockets).to.have.length(1);
    expect(report.sockets[0]).to.include({ requests: 100, reconnects: 9 });
  });

  it('--max-conn-age recycles sockets older than that', async () => {
    const { url, seen } = await countingServer((_req, res) => setTimeout(() => res.end('ok'), 5));
    // Requests go on for 1 s; a socket older than 200 ms (±10%) closes after its current one.
    const { code, report } = await runJSON([url + '/', '-d', '1s', '-c', '1', '--size', '1', '--max-conn-age', '200ms']);
    expect(code).to.equal(0);
    expect(report.failed).to.equal(0);
    expect(report.sockets[0].reconnects).to.be.within(2, 5);
    expect(seen.connections).to.equal(report.sockets[0].reconnects + 1);
  });

  it('prints the per-second table with min, mean and stdev; --json has the array', async () => {
    const { url } = await countingServer();
    const text = await run([url + '/', '-R', '100', '-d', '2s']);
    expect(text.code).to.equal(0);
    const m = /^per second min (\d+) +mean ([\d.]+) +stdev ([\d.]+) req\/s over 2 whole seconds\n +1-2 +(\d+) +(\d+)$/m.exec(text.stdout);
    expect(m, text.stdout).to.not.equal(null);
    const [min, mean, , a, b] = m!.slice(1).map(Number);
    expect(min).to.equal(Math.min(a!, b!));
    expect(mean).to.equal((a! + b!) / 2);
    expect(a! + b!).to.be.at.most(200);
    const short = await run([url + '/', '-n', '5']);
    expect(short.stdout).to.match(/^per second none: the run was shorter than one second$/m);
    const { report } = await runJSON([url + '/', '-R', '100', '-d', '2s']);
    expect(report.perSecond).to.have.length(2);
    expect(report.perSecondStats.min).to.equal(Math.min(...report.perSecond));
  });

  it('--latency-table gives the whole distribution at HdrHistogram percentiles', async () => {
    const { url } = await countingServer();
    const { report } = await runJSON([url + '/', '-n', '200', '--latency-table']);
    const rows = report.latencyTable as { percentile: number; ms: number; count: number }[];
    expect(rows.map((r) => r.percentile)).to.deep.equal(percentileSteps());
    expect(rows.at(-1)).to.deep.include({ percentile: 100, ms: report.latency.max, count: 200 });
    expect(rows[0]).to.deep.include({ percentile: 0, ms: report.latency.min });
    const text = await run([url + '/', '-n', '200', '--latency-table']);
    expect(text.stdout).to.match(/^latency distribution\n +percentile +ms +count\n +0% +[\d.]+ +\d+$/m);
    expect(text.stdout).to.match(/^ +87\.5% +[\d.]+ +\d+$/m);
    expect(text.stdout).to.match(/^ +100% +[\d.]+ +200$/m);
    const none = await runJSON([url + '/', '-n', '5']);
    expect(none.report).not.to.have.property('latencyTable');
  });

  it('--svg writes a picture of the run', async () => {
    const { url } = await countingServer();
    const file = path.join(tmpDir(), 'run.svg');
    const r = await run([url + '/', '-R', '100', '-d', '1s', '--svg', file]);
    expect(r.code).to.equal(0);
    const svg = fs.readFileSync(file, 'utf8');
    expect(svg).to.match(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).to.include(`GET ${url}/`);
    expect(svg.trimEnd()).to.match(/<\/svg>$/);
  });

  it('--proxy: every request goes through the proxy, in absolute form for an http:// URL', async () => {
    const { url, seen } = await countingServer();
    const proxy = await startProxy();
    const { code, report } = await runJSON([url + '/p', '--proxy', proxy.url, '-n', '30', '-c', '4', '--size', '2']);
    expect(code).to.equal(0);
    expect(report).to.include({ requests: 30, succeeded: 30 });
    expect(seen.requests).to.equal(30);
    expect(proxy.absolute).to.have.length(30);
    expect(proxy.absolute[0]).to.equal(`GET ${url}/p HTTP/1.1`);
    expect(proxy.connections).to.equal(2);
  });

  describe('bad values of the new flags: one line, exit 2, nothing sent', () => {
    const cases: [string, (url: string) => string[], RegExp][] = [
      ['a rate that is not a positive number', (u) => [u, '-R', '0', '-n', '5'], /^http-client-pool: -R must be a positive number of requests per second, got 0; see --help$/],
      ['an unreadable CA file', (u) => [u.replace('http:', 'https:'), '--ca', '/nonexistent/ca.pem', '-n', '5'], /^http-client-pool: --ca \/nonexistent\/ca\.pem: ENOENT/],
      ['more workers than -c', (u) => [u, '--workers', '4', '-c', '2', '-n', '5'], /^http-client-pool: --workers 4 needs -c of at least 4/],
      ['an expected status that is not one', (u) => [u, '--expect', 'ok', '-n', '5'], /^http-client-pool: --expect must be an HTTP status/],
      ['a proxy that is not an http(s) URL', (u) => [u, '--proxy', 'socks5://127.0.0.1:1080', '-n', '5'], /^http-client-pool: --proxy must be an http: or https: URL, got "socks5:"; see --help$/],
      ['a picture it could not write', (u) => [u, '--svg', '/nonexistent/run.svg', '-n', '5'], /^http-client-pool: --svg \/nonexistent\/run\.svg: cannot write in \/nonexistent/],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const { url, seen } = await countingServer();
        const r = await run(args(url + '/'));
        expect(r.code).to.equal(2);
        expect(r.stdout).to.equal('');
        expect(r.stderr.split('\n')[0]).to.match(message);
        expect(r.stderr).to.include('usage: http-client-pool');
        expect(seen.connections).to.equal(0);
      });
    }

    it('a header the pool refuses, with workers: exit 2 before any worker sends', async () => {
      const { url, seen } = await countingServer();
      const r = await run([url + '/', '-n', '10', '--workers', '2', '-c', '2', '-H', 'transfer-encoding: chunked']);
      expect(r.code).to.equal(2);
      expect(r.stderr.split('\n')[0]).to.match(/transfer-encoding/);
      expect(seen.requests).to.equal(0);
    });
  });
});
