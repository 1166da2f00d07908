// The command-line tool: argument parsing, the histogram, and whole runs in a
// child process against loopback servers (and the embedded one).
import { spawn } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { parse, UsageError } from '../../dist/cli/args.js';
import { Histogram } from '../../dist/cli/histogram.js';
import { PipelineWatch } from '../../dist/cli/pipeline.js';
import { cleanup, defer, fixturesDir, httpServer, rawServer, spawnChild } from '../helpers.js';
import { main, run } from './run.js';

describe('cli: arguments', () => {
  it('has defaults: 16 in flight, 8 sockets, GET for 10 s, raw backend', () => {
    expect(parse([])).to.deep.include({ url: null, concurrency: 16, size: 8, method: 'GET', durationMs: 10_000, requests: null, backend: 'raw', json: false, timeout: 0 });
  });

  it('reads every flag', () => {
    const a = parse(['http://127.0.0.1:1/x', '-c', '4', '-n', '100', '--size', '2', '--pipelining', '3', '-m', 'put', '-H', 'a: 1', '-H', 'a: 2', '-H', 'b:3', '--body', 'hi', '--timeout', '50', '--insecure', '--backend', 'raw', '--json']);
    expect(a).to.deep.include({ url: 'http://127.0.0.1:1/x', concurrency: 4, requests: 100, durationMs: null, size: 2, pipelining: 3, method: 'PUT', timeout: 50, insecure: true, backend: 'raw', json: true });
    expect(a.headers).to.deep.equal({ a: ['1', '2'], b: ['3'] });
    expect(a.body!.toString()).to.equal('hi');
  });

  it('reads the open-model, worker, TLS, recycling and output flags', () => {
    const ca = path.join(fixturesDir, 'ca.pem');
    const a = parse(['https://localhost:1/', '-R', '250.5', '--workers', '2', '--warmup', '1s', '--expect', '204', '--ca', ca, '--cert', path.join(fixturesDir, 'client.pem'), '--key', path.join(fixturesDir, 'client-key.pem'), '--max-requests-per-conn', '5', '--max-conn-age', '2s', '--latency-table', '--svg', path.join(os.tmpdir(), 'run.svg')]);
    expect(a).to.deep.include({ rate: 250.5, workers: 2, warmupMs: 1000, expect: 204, maxRequestsPerConn: 5, maxConnAgeMs: 2000, latencyTable: true, svg: path.join(os.tmpdir(), 'run.svg') });
    expect(a.ca!.equals(fs.readFileSync(ca))).to.equal(true);
    expect(a.cert).to.be.instanceOf(Buffer);
    expect(a.key).to.be.instanceOf(Buffer);
    expect(parse(['--rate', '0.5']).rate).to.equal(0.5);
    expect(parse([])).to.deep.include({ rate: null, workers: 1, warmupMs: null, expect: null, socketPath: null, ca: null, maxRequestsPerConn: 0, maxConnAgeMs: 0, latencyTable: false, svg: null });
  });

  it('takes -S only for a unix socket', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-cli-'));
    defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sock = path.join(dir, 's');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    defer(() => new Promise((resolve) => server.close(resolve)));
    expect(parse(['-S', sock]).socketPath).to.equal(sock);
    expect(parse(['--socket-path', sock]).socketPath).to.equal(sock);
    expect(() => parse(['-S', path.join(fixturesDir, 'ca.pem')])).to.throw(UsageError, /not a unix socket/);
  });

  it('parses durations and makes --body a POST', () => {
    expect(parse(['-d', '500ms']).durationMs).to.equal(500);
    expect(parse(['-d', '2m']).durationMs).to.equal(120_000);
    expect(parse(['-d', '3']).durationMs).to.equal(3000);
    expect(parse(['--body', 'x']).method).to.equal('POST');
  });

  const bad: string[][] = [
    ['-c', '0'],
    ['-c', 'x'],
    ['-n', '-1'],
    ['-n', '1', '-d', '1s'],
    ['-d', 'soon'],
    ['--size', '1.5'],
    ['--backend', 'curl'],
    ['-H', 'no-colon'],
    ['ftp://127.0.0.1/'],
    ['http://127.0.0.1/', 'http://127.0.0.2/'],
    ['--nope'],
    ['--body', '@/nonexistent/file'],
    ['-m', 'G T'],
    ['--pipelining', '0'],
    ['--backend', 'node', '--pipelining', '2'],
    ['-R', '0'],
    ['-R', '-5'],
    ['-R', 'fast'],
    ['--rate', 'NaN'],
    ['--rate', 'Infinity'],
    ['--rate', '1e3'],
    ['--workers', '0'],
    ['--workers', 'two'],
    ['--workers', '3', '-c', '2'],
    ['--workers', '4', '-n', '3'],
    ['--warmup', 'soon'],
    ['--warmup', '0s'],
    ['--expect', '2xx'],
    ['--expect', '600'],
    ['--expect', '99'],
    ['https://localhost/', '--ca', '/nonexistent/ca.pem'],
    ['https://localhost/', '--cert', '/nonexistent/cert.pem', '--key', '/nonexistent/key.pem'],
    ['https://localhost/', '--cert', path.join(fixturesDir, 'client.pem')],
    ['https://localhost/', '--key', path.join(fixturesDir, 'client-key.pem')],
    ['http://127.0.0.1/', '--ca', path.join(fixturesDir, 'ca.pem')],
    ['-S', '/nonexistent/socket'],
    ['--socket-path', ''],
    ['--max-requests-per-conn', '0'],
    ['--max-requests-per-conn', 'many'],
    ['--max-conn-age', 'forever'],
    ['--max-conn-age', '30d'],
    ['--svg', '/nonexistent/dir/run.svg'],
    ['--svg', path.join(fixturesDir, 'ca.pem', 'run.svg')],
  ];
  for (const args of bad) {
    it(`refuses ${args.join(' ')}`, () => expect(() => parse(args)).to.throw(UsageError));
  }

  // The tool's own message for a bad flag: the flag, what it takes or the nearest known
  // flag, and --help; never parseArgs's text (which names its own workarounds).
  const messages: [string[], string][] = [
    [['--sizee', '4'], 'unknown flag --sizee (did you mean --size?); see --help'],
    [['--pipelinig', '2'], 'unknown flag --pipelinig (did you mean --pipelining?); see --help'],
    [['--connections', '4'], 'unknown flag --connections (did you mean -c?); see --help'],
    [['--threads', '2'], 'unknown flag --threads (did you mean --workers?); see --help'],
    [['--frobnicate'], 'unknown flag --frobnicate; see --help'],
    [['-x'], 'unknown flag -x; see --help'],
    [['-r', '100'], 'unknown flag -r (did you mean -R?); see --help'],
    [['-C', '4'], 'unknown flag -C (did you mean -c?); see --help'],
    [['-c'], '-c takes the number of requests in flight, an integer >= 1, got nothing; see --help'],
    [['-c', '--size', '4'], '-c takes the number of requests in flight, an integer >= 1, got the flag --size; see --help'],
    [['-c', '-1'], '-c must be an integer >= 1, got -1; see --help'],
    [['-d'], '-d takes a duration like 10s, 500ms or 2m, got nothing; see --help'],
    [['--json=yes'], '--json takes no value, got --json=yes; see --help'],
  ];
  for (const [args, message] of messages) {
    it(`says what is wrong with ${args.join(' ')}`, () => {
      let got = '';
      try {
        parse(args);
      } catch (err) {
        expect(err).to.be.instanceOf(UsageError);
        got = (err as Error).message;
      }
      expect(got).to.equal(message);
    });
  }

  // The pool pipelines only idempotent requests without `connection: close`: asking
  // for pipelining with any other is refused, since the run would pipeline nothing.
  const neverPipelined: [string[], RegExp][] = [
    [['--pipelining', '4', '-m', 'POST'], /^--pipelining 4: POST requests are never pipelined/],
    [['--pipelining', '2', '--body', 'x'], /^--pipelining 2: POST requests are never pipelined/],
    [['--pipelining', '2', '-m', 'patch'], /^--pipelining 2: PATCH requests are never pipelined/],
    [['--pipelining', '2', '-m', 'PURGE'], /^--pipelining 2: PURGE requests are never pipelined/],
    [['--pipelining', '2', '-H', 'connection: close'], /^--pipelining 2: requests with 'connection: close' are never pipelined/],
    [['--pipelining', '2', '-m', 'PUT', '-H', 'Connection:  CLOSE '], /'connection: close' are never pipelined/],
  ];
  for (const [args, message] of neverPipelined) {
    it(`refuses ${args.join(' ')}: nothing would be pipelined`, () => expect(() => parse(args)).to.throw(UsageError, message));
  }

  const pipelinable: string[][] = [
    ['--pipelining', '4'],
    ['--pipelining', '4', '-m', 'HEAD'],
    ['--pipelining', '4', '-m', 'put', '--body', 'x'],
    ['--pipelining', '4', '-m', 'DELETE', '-H', 'connection: keep-alive'],
    ['-m', 'POST', '--pipelining', '1'],
    ['-H', 'connection: close'],
  ];
  for (const args of pipelinable) {
    it(`accepts ${args.join(' ')}`, () => expect(() => parse(args)).not.to.throw());
  }
});

describe('cli: histogram', () => {
  it('gives exact small values and quantiles within 1.6% for large ones', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    expect(h.count).to.equal(100_000);
    expect(h.min).to.equal(1);
    expect(h.max).to.equal(100_000);
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const want = q * 100_000;
      expect(Math.abs(h.quantile(q) - want) / want).to.be.below(0.016);
    }
    const small = new Histogram();
    for (const v of [3, 3, 7, 100]) small.record(v);
    expect([small.quantile(0.5), small.quantile(0.75), small.quantile(1)]).to.deep.equal([3, 7, 100]);
  });

  it('clamps values beyond its range instead of failing', () => {
    const h = new Histogram();
    h.record(1e15);
    h.record(-5);
    expect(h.count).to.equal(2);
    expect(h.quantile(1)).to.equal(h.max);
  });
});

describe('cli: pipelining as counted from diagnostics events', () => {
  // The events in the order a pool publishes them (connect before the socket's first
  // write); the runs below check the same counts against a real pool.
  const ORIGIN = 'http://127.0.0.1:1';
  const publish = (name: string, msg: object): void => channel(`http-client-pool:${name}`).publish(msg);
  const connect = (socketId: number): void => publish('connect', { origin: ORIGIN, socketId });
  const start = (id: number, socketId: number): void => publish('request-start', { request: { id, origin: ORIGIN, method: 'GET', path: '/' }, socketId });
  const end = (id: number): void => publish('request-end', { request: { id, origin: ORIGIN, method: 'GET', path: '/' }, statusCode: 200, bodyLength: 0 });
  const error = (id: number): void => publish('request-error', { request: { id, origin: ORIGIN, method: 'GET', path: '/' }, error: new Error('x') });

  function watch(events: () => void): { pipelined: number; maxDepth: number } {
    const w = new PipelineWatch();
    w.start();
    try {
      events();
    } finally {
      w.stop();
    }
    return { pipelined: w.pipelined, maxDepth: w.maxDepth };
  }

  it('counts a request written while an earlier one on its socket is unsettled, per socket', () => {
    const got = watch(() => {
      connect(0);
      connect(1);
      start(1, 0);
      start(2, 1); // another socket: not pipelined
      start(3, 0); // behind 1
      end(1);
      start(4, 0); // behind 3
      end(3);
      error(4); // a failure settles too
      start(5, 0); // alone again
      end(2);
      end(5);
    });
    expect(got).to.deep.equal({ pipelined: 2, maxDepth: 2 });
  });

  it('starts a re-dialed socket with an empty pipeline, and a resent request leaves its old socket', () => {
    const got = watch(() => {
      connect(0);
      connect(1);
      start(1, 0);
      start(2, 0);
      start(3, 0); // 2 pipelined, 3 deep
      // The socket fails unanswered; slot 0 re-dials, 1 and 2 are resent to it, 3 to slot 1.
      connect(0);
      start(1, 0);
      start(2, 0); // behind 1 on the new socket
      start(3, 1); // alone on slot 1
      end(1);
      end(2);
      end(3);
      start(4, 1); // slot 1 is empty again
      end(4);
    });
    expect(got).to.deep.equal({ pipelined: 3, maxDepth: 3 });
  });
});

describe('cli: runs', function () {
  this.timeout(30_000);
  afterEach(cleanup);

  it('reports a run as JSON whose counts add up, with every socket used', async () => {
    const { url } = await httpServer((req, res) => {
      res.statusCode = req.url === '/x' ? 200 : 404;
      res.end('body');
    });
    const r = await run([url + '/x', '-n', '400', '-c', '1', '--size', '4', '--json']);
    expect(r.code).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report).to.include({ requests: 400, succeeded: 400, failed: 0, size: 4, concurrency: 1, backend: 'raw' });
    expect(report.statuses).to.deep.equal({ '200': 400 });
    expect(report.errors).to.deep.equal({});
    for (const k of ['min', 'mean', 'p50', 'p90', 'p99', 'p99_9', 'max']) expect(report.latency[k]).to.be.a('number');
    expect(report.latency.p50).to.be.at.most(report.latency.p99);
    expect(report.sockets).to.have.length(4);
    expect(report.sockets.reduce((n: number, s: { requests: number }) => n + s.requests, 0)).to.equal(400);
    for (const s of report.sockets) expect(s.requests).to.equal(100); // one at a time, round-robin: exactly even
    expect(report.bytesIn).to.be.greaterThan(0);
  });

  it('pipelines with --pipelining: a server that answers only full pipelines still completes the run', async () => {
    // The server holds its answers until 4 requests wait on the connection: only a pipelining client gets any.
    let held = 0;
    const { url } = await rawServer((socket) => {
      if (++held < 4) return;
      held = 0;
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'.repeat(4));
    });
    const r = await run([url + '/', '-n', '400', '-c', '4', '--size', '1', '--pipelining', '4', '--json']);
    expect(r.code).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report).to.include({ requests: 400, succeeded: 400, pipelining: 4, pipelineDepth: 4 });
    // Every answer waited for 4 requests on the socket: of each 4 at least the last 3 went
    // out behind an unanswered one; the very first request of the run never did.
    expect(report.pipelined).to.be.within(300, 399);
  });

  it('says when a run allowed to pipeline pipelined nothing (one request at a time)', async () => {
    const { url } = await httpServer((_req, res) => res.end('ok'));
    const json = await run([url + '/', '-n', '50', '-c', '1', '--size', '1', '--pipelining', '4', '--json']);
    expect(json.code).to.equal(0);
    expect(JSON.parse(json.stdout)).to.include({ succeeded: 50, pipelining: 4, pipelined: 0, pipelineDepth: 1 });
    const text = await run([url + '/', '-n', '50', '-c', '1', '--size', '1', '--pipelining', '4']);
    expect(text.stdout).to.match(/^target +\S+ \(raw backend, 1 socket, concurrency 1\)$/m);
    expect(text.stdout).to.match(/^pipelining none \(--pipelining 4\)$/m);
  });

  it('exits 2 before connecting when asked to pipeline what is never pipelined', async () => {
    let connections = 0;
    const { url, server } = await httpServer((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    const r = await run([url + '/', '-n', '10', '--pipelining', '4', '-m', 'POST']);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr.split('\n')[0]).to.equal('http-client-pool: --pipelining 4: POST requests are never pipelined (only GET, HEAD, OPTIONS, PUT, DELETE and TRACE are); see --help');
    expect(connections).to.equal(0);
  });

  it('exits 0 with HTTP error statuses, which it reports', async () => {
    const { url } = await httpServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const r = await run([url + '/', '-n', '20', '--json', '--backend', 'node']);
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout).statuses).to.deep.equal({ '503': 20 });
  });

  it('exits 1 when requests fail at transport level, counting errors by code', async () => {
    // A port that was just free: nothing listens there.
    const { url, server } = await httpServer(() => {});
    await new Promise((resolve) => server.close(resolve));
    const r = await run([url + '/', '-n', '10', '--json']);
    expect(r.code).to.equal(1);
    const report = JSON.parse(r.stdout);
    expect(report.errors).to.deep.equal({ HCP_CONNECT: 10 });
    // Refusals are failures, not throughput: no rate, no latency.
    expect(report).to.include({ requests: 10, succeeded: 0, failed: 10, requestsPerSec: 0, latency: null });
    expect(report.statuses).to.deep.equal({});
    expect(report.failuresPerSec).to.be.greaterThan(0);
    const text = await run([url + '/', '-n', '5']);
    expect(text.code).to.equal(1);
    expect(text.stdout).to.match(/^requests +0 completed in \d+\.\d\d s: 0 req\/s, 0 B\/s in$/m);
    expect(text.stdout).to.match(/^latency +none: no request completed$/m);
    expect(text.stdout).to.match(/^errors +5 failed, [\d.]+\/s: HCP_CONNECT: 5 \(ECONNREFUSED\)$/m);
  });

  it('counts completed and failed requests apart when some fail', async () => {
    // One socket, one request at a time: the server answers 6 POSTs, then resets the
    // connection on every request. A POST that was written is never resent, so each of
    // the last 4 fails once.
    let seen = 0;
    const { url } = await rawServer((socket) => {
      if (seen++ < 6) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else socket.resetAndDestroy();
    });
    const r = await run([url + '/', '-n', '10', '-c', '1', '--size', '1', '-m', 'POST', '--json']);
    expect(r.code).to.equal(1);
    const report = JSON.parse(r.stdout);
    expect(report).to.include({ requests: 10, succeeded: 6, failed: 4 });
    expect(report.statuses).to.deep.equal({ '200': 6 });
    expect(report.errors).to.deep.equal({ HCP_SOCKET: 4 });
    expect(seen).to.equal(10);
    // Both rates are over the same duration: 6 completed to 4 failed (within rounding).
    expect(report.failuresPerSec).to.be.greaterThan(0);
    expect(Math.abs(report.requestsPerSec * 4 - report.failuresPerSec * 6)).to.be.at.most(2.1);
    expect(report.latency).to.be.an('object');
  });

  it('exits 2 with a one-line message and the usage for bad arguments', async () => {
    const r = await run(['-c', 'lots']);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr.split('\n')[0]).to.match(/^http-client-pool: -c must be/);
    expect(r.stderr).to.include('usage: http-client-pool');
  });

  it('exits 2 with its own line for an unknown flag, naming the nearest one', async () => {
    const r = await run(['--sizee', '4', '-n', '1']);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr.split('\n')[0]).to.equal('http-client-pool: unknown flag --sizee (did you mean --size?); see --help');
  });

  it('exits 2 for a header the pool refuses', async () => {
    const r = await run(['-n', '1', '-H', 'transfer-encoding: chunked']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/transfer-encoding/);
  });

  it('runs against the embedded server when no URL is given, printing the text report', async () => {
    const r = await run(['-n', '200', '--size', '2', '-c', '1']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^target +http:\/\/127\.0\.0\.1:\d+\/ \(raw backend, 2 sockets, concurrency 1\)/);
    expect(r.stdout).to.match(/requests +200 completed in/);
    expect(r.stdout).to.match(/status +200: 200/);
    expect(r.stdout).to.match(/errors +none/);
    expect(r.stdout.match(/^ +\d +127\.0\.0\.1:\d+ +100 +50\.0% +0 +0$/gm)).to.have.length(2);
    expect(r.stderr).to.equal(''); // not a terminal: no progress line
  });

  it('shows a progress line on a terminal and clears it before the report', async function () {
    // util-linux `script` gives the child a pseudo-terminal.
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('script', ['--version']).error !== undefined) this.skip();
    const out = await new Promise<string>((resolve) => {
      const child = spawn('script', ['-qec', `${process.execPath} ${main} -d 1200ms`, '/dev/null'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d));
      child.on('close', () => resolve(text));
    });
    expect(out).to.match(/\r\x1b\[K\d+\.\d s {2}\d+ completed {2}\d+ req\/s {2}0 failed/);
    expect(out).to.include('\r\x1b[Ktarget ');
  });

  it('stops at Ctrl-C and still prints the report', async () => {
    let served = 0;
    let flowing!: () => void;
    const started = new Promise<void>((resolve) => (flowing = resolve));
    const { url } = await httpServer((_req, res) => {
      if (++served === 100) flowing();
      res.end('ok');
    });
    const child = spawnChild(main, [url + '/', '-d', '60s', '--json'], { ipc: false });
    await started;
    child.process.kill('SIGINT');
    const { code, out } = await child.exited;
    expect(code).to.equal(0);
    const report = JSON.parse(out);
    expect(report.stoppedEarly).to.equal(true);
    expect(report.requests).to.equal(report.succeeded);
    expect(report.requests).to.be.at.least(100);
  });
});
