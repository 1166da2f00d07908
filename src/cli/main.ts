#!/usr/bin/env node
// `http-client-pool`: load and latency tool. Exit codes: 0 the run completed (HTTP
// error statuses are reported, not failures), 1 a request failed at transport level,
// 2 bad arguments.
import '../node-version.js'; // first: an unsupported Node fails before anything reaches the parser
import { NodePool } from '../node/pool.js';
import { Pool, type Client } from '../raw/pool.js';
import { InvalidArgumentError } from '../errors.js';
import type { Headers } from '../options.js';
import { parse, USAGE, UsageError, type Args } from './args.js';
import { Load } from './load.js';
import { PipelineWatch } from './pipeline.js';
import { formatReport, makeReport } from './report.js';
import { startEmbeddedServer, type EmbeddedServer } from './server.js';

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`http-client-pool: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }

  // Headers go in as pool defaults: checked at construction, serialised once.
  const url = new URL(args.url ?? 'http://127.0.0.1/');
  const options = { baseURL: url.origin, size: args.size, pipelining: args.pipelining, insecureSkipVerify: args.insecure, headers: toHeaders(args.headers) };
  let client: Client;
  let server: EmbeddedServer | null = null;
  try {
    if (args.url === null) {
      server = await startEmbeddedServer();
      options.baseURL = new URL(server.url).origin;
    }
    client = args.backend === 'node' ? new NodePool(options) : new Pool(options);
  } catch (err) {
    await server?.stop();
    if (!(err instanceof InvalidArgumentError)) throw err;
    process.stderr.write(`http-client-pool: ${err.message}\n${USAGE}\n`);
    return 2;
  }

  const load = new Load(client, {
    method: args.method,
    path: url.pathname + url.search,
    headers: undefined,
    body: args.body,
    concurrency: args.concurrency,
    requests: args.requests,
    durationMs: args.durationMs,
    timeout: args.timeout,
  });
  // First Ctrl-C: stop and report; a second one: leave at once.
  const onSigint = (): void => {
    if (load.stoppedEarly) process.exit(130);
    load.stop();
  };
  process.on('SIGINT', onSigint);
  const progress = process.stderr.isTTY && !args.json ? setInterval(() => showProgress(load), 250) : null;
  // Counted only when pipelining is allowed: a plain run publishes no diagnostics events.
  const pipeline = args.pipelining > 1 ? new PipelineWatch() : null;
  pipeline?.start();

  await load.run();
  pipeline?.stop();

  if (progress !== null) {
    clearInterval(progress);
    process.stderr.write('\r\x1b[K');
  }
  process.off('SIGINT', onSigint);
  const info = { url: options.baseURL + url.pathname + url.search, backend: args.backend, size: args.size, pipelining: args.pipelining, concurrency: args.concurrency };
  const report = makeReport(load, client.stats(), info, pipeline);
  await client.close();
  await server?.stop();
  process.stdout.write(args.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
  return load.failed > 0 ? 1 : 0;
}

function showProgress(load: Load): void {
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
