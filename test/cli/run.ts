// Runs the command-line tool in a child process, for the test files of test/cli.
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpServer, spawnChild } from '../helpers.js';

export const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

/** Runs the CLI in a child process (`execArgv`: Node options before it); resolves with its exit code and output. */
export async function run(args: string[], execArgv: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { code, out, err } = await spawnChild(main, args, { ipc: false, execArgv }).exited;
  return { code, stdout: out, stderr: err };
}

/** Runs the CLI with --json and parses its report (throws with its stderr if that is not JSON). */
export async function runJSON(args: string[], execArgv: string[] = []): Promise<{ code: number | null; report: Record<string, any>; stderr: string }> {
  const r = await run([...args, '--json'], execArgv);
  try {
    return { code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr };
  } catch {
    throw new Error(`not a JSON report (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
}

/** A server that counts what it received: requests, connections, and the most requests open at once. */
export async function countingServer(answer: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void = (_q, res) => res.end('ok')) {
  const seen = { requests: 0, connections: 0, open: 0, maxOpen: 0, arrivals: [] as number[] };
  const { server, url } = await httpServer((req, res) => {
    const i = seen.requests++;
    seen.arrivals.push(performance.now());
    seen.maxOpen = Math.max(seen.maxOpen, ++seen.open);
    res.on('finish', () => seen.open--);
    answer(req, res, i);
  });
  server.on('connection', () => seen.connections++);
  return { server, url, seen };
}
