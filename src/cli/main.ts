#!/usr/bin/env node
// `http-client-pool`: load and latency tool. Exit codes: 0 the run completed (HTTP
// error statuses are reported, not failures, unless --expect says otherwise), 1 a
// request failed, 2 bad arguments.
import '../node-version.js'; // first: an unsupported Node fails before anything reaches the parser
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import type { Headers, PoolOptions } from '../options.js';
import { parse, USAGE, UsageError, type Args } from './args.js';
import { merge } from './merge.js';
import { makePicture } from './picture.js';
import { formatReport, makeReport } from './report.js';
import { ThreadRun, type ThreadPlan, type ThreadResult } from './run.js';
import { startEmbeddedServer, type EmbeddedServer } from './server.js';
import { renderSvg } from './svg.js';
import { InvalidOptions, startThreads } from './threads.js';
import { shares, timetableShare, timetableTotal } from './timetable.js';

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usage(err.message);
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (args.workers > availableParallelism()) {
    process.stderr.write(`http-client-pool: note: --workers ${args.workers} on ${availableParallelism()} cores: the workers share them\n`);
  }

  const url = new URL(args.url ?? 'http://127.0.0.1/');
  let server: EmbeddedServer | null = null;
  // The embedded server has its own thread, whatever the number of workers.
  if (args.url === null) server = await startEmbeddedServer();
  const baseURL = server === null ? url.origin : new URL(server.url).origin;
  const plans = threadPlans(args, baseURL, url.pathname + url.search);

  let results: ThreadResult[];
  let stop: () => void = () => {};
  let stopping = false;
  // First Ctrl-C: stop and report; a second one: leave at once.
  const onSigint = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    stop();
  };
  process.on('SIGINT', onSigint);
  try {
    if (plans.length === 1) {
      const run = new ThreadRun(plans[0]!);
      stop = () => run.stop();
      if (stopping) run.stop();
      const progress = process.stderr.isTTY && !args.json ? setInterval(() => showProgress(run), 250) : null;
      await run.warmup();
      results = [await run.measure(performance.now())];
      if (progress !== null) {
        clearInterval(progress);
        process.stderr.write('\r\x1b[K');
      }
    } else {
      const threads = await startThreads(plans);
      stop = () => threads.stop();
      if (stopping) threads.stop();
      results = await threads.results;
    }
  } catch (err) {
    await server?.stop();
    // Options the pool refuses (a header, say): found before any request is sent.
    if (err instanceof InvalidArgumentError || err instanceof InvalidOptions) return usage(err.message);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  await server?.stop();

  const merged = merge(results);
  const report = makeReport(merged, {
    method: args.method,
    url: baseURL + url.pathname + url.search,
    backend: args.backend,
    size: args.size,
    pipelining: args.pipelining,
    concurrency: args.concurrency,
    workers: args.workers,
    rate: args.rate,
    durationMs: args.durationMs,
    // -d: the timetable is what is due within it; -n: that many requests at the rate.
    scheduleMs: args.rate === null || merged.stoppedEarly || merged.gaveUp !== null ? null : (args.durationMs ?? (timetableTotal(args.rate, args.requests, null) * 1000) / args.rate),
    warmupMs: args.warmupMs,
    expect: args.expect,
    latencyTable: args.latencyTable,
  });
  if (args.svg !== null) writeFileSync(args.svg, renderSvg(makePicture(report, merged.latency, merged.serviceTime)));
  process.stdout.write(args.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
  return report.failed > 0 ? 1 : 0;
}

function usage(message: string): number {
  process.stderr.write(`http-client-pool: ${message}\n${USAGE}\n`);
  return 2;
}

/** Each thread's plan: its share of -c, -n and of the -R timetable; -d and the rest as given. */
function threadPlans(args: Args, baseURL: string, path: string): ThreadPlan[] {
  const n = args.workers;
  const tls = { ...(args.ca && { ca: args.ca }), ...(args.cert && { cert: args.cert }), ...(args.key && { key: args.key }) };
  // Headers go in as pool defaults: checked at construction, serialised once.
  // Pool-only options only when given: NodePool (--backend node) refuses them.
  const pool: PoolOptions = {
    baseURL,
    size: args.size,
    ...(args.pipelining !== 1 && { pipelining: args.pipelining }),
    insecureSkipVerify: args.insecure,
    headers: toHeaders(args.headers),
    ...(Object.keys(tls).length !== 0 && { tls }),
    ...(args.socketPath !== null && { socketPath: args.socketPath }),
    ...(args.proxy !== null && { proxy: args.proxy }),
    ...(args.maxRequestsPerConn !== 0 && { maxRequestsPerConn: args.maxRequestsPerConn }),
    ...(args.maxConnAgeMs !== 0 && { maxConnAge: args.maxConnAgeMs }),
  };
  const concurrency = shares(args.concurrency, n);
  const requests = args.requests === null ? null : shares(args.requests, n);
  const total = args.rate === null ? 0 : timetableTotal(args.rate, args.requests, args.durationMs);
  return concurrency.map((c, w) => ({
    backend: args.backend,
    pool,
    warmupMs: args.warmupMs,
    watchPipeline: args.pipelining > 1,
    worker: w,
    load: {
      method: args.method,
      path,
      headers: undefined,
      body: args.body,
      concurrency: c,
      requests: requests?.[w] ?? null,
      durationMs: args.durationMs,
      timeout: args.timeout,
      schedule: args.rate === null ? null : timetableShare(args.rate, total, n, w),
      expect: args.expect,
    },
  }));
}

function showProgress(run: ThreadRun): void {
  const load = run.load;
  if (load === null) return;
  const s = load.elapsedMs / 1000;
  const rate = s > 0 ? Math.round(load.completed / s) : 0;
  process.stderr.write(`\r\x1b[K${s.toFixed(1)} s  ${load.completed} completed  ${rate} req/s  ${load.failed} failed`);
}

function toHeaders(h: Record<string, string[]>): Headers | undefined {
  const names = Object.keys(h);
  if (names.length === 0) return undefined;
  const out: Record<string, string | string[]> = {};
  for (const n of names) out[n] = h[n]!.length === 1 ? h[n]![0]! : h[n]!;
  return out;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`http-client-pool: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
