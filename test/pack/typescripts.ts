// TypeScript compilers a consumer may have, installed from the npm registry at test time
// into a scratch folder (none of them is a dependency of this project): 5.9, the latest 6.x
// if there is one, and the registry's `latest`. One `npm view` and one `npm install` per
// run; the folder is removed by the caller. When the registry cannot be reached the answer
// says why, and the caller skips.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Compiler {
  /** The version installed, as `tsc --version` says it (5.9.3, 7.0.2). */
  readonly version: string;
  /** Its tsc, run with `node`. */
  readonly tsc: string;
}

export type Compilers = { ok: true; compilers: Compiler[] } | { ok: false; reason: string };

const UNREACHABLE = /E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH|HOSTUNREACH)|network|socket hang up|\b5\d\d\b/i;

function npm(args: string[], cwd: string): Promise<{ ok: true; stdout: string } | { ok: false; text: string }> {
  return new Promise((resolve) => {
    execFile(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve(err === null ? { ok: true, stdout } : { ok: false, text: `${err.message}\n${stderr}` }));
  });
}

/** The highest release (no pre-release) of `versions` that starts with `major.` */
function highest(versions: string[], major: number): string | undefined {
  const of = versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v) && Number(v.split('.')[0]) === major);
  return of.sort((a, b) => {
    const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  }).at(-1);
}

/** Installs the compilers into `dir` (made if missing). Throws on a failure that is not the network's. */
export async function installCompilers(dir: string): Promise<Compilers> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'typescripts', private: true }));
  const view = await npm(['view', 'typescript', 'versions', 'dist-tags', '--json'], dir);
  if (!view.ok) {
    if (UNREACHABLE.test(view.text)) return { ok: false, reason: `the npm registry cannot be reached: ${view.text.split('\n')[0]}` };
    throw new Error(`npm view typescript: ${view.text}`);
  }
  const info = JSON.parse(view.stdout) as { versions: string[]; 'dist-tags': { latest: string } };
  const wanted = [highest(info.versions, 5) === undefined ? undefined : '5.9', highest(info.versions, 6), info['dist-tags'].latest]
    .filter((v, i, all): v is string => v !== undefined && all.indexOf(v) === i);
  const aliases = wanted.map((v, i) => `ts${i}@npm:typescript@${v}`);
  const install = await npm(['install', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', ...aliases], dir);
  if (!install.ok) {
    if (UNREACHABLE.test(install.text)) return { ok: false, reason: `the npm registry cannot be reached: ${install.text.split('\n')[0]}` };
    throw new Error(`npm install ${aliases.join(' ')}: ${install.text}`);
  }
  return {
    ok: true,
    compilers: wanted.map((_, i) => {
      const pkg = path.join(dir, 'node_modules', `ts${i}`);
      const { version } = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { version: string };
      return { version, tsc: path.join(pkg, 'bin', 'tsc') };
    }),
  };
}
