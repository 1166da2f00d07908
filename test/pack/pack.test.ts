// The package as a user gets it: `npm pack` of the built worktree, the tarball installed in a
// scratch consumer under the OS temp folder (so nothing resolves to the worktree), then the
// packed file list, an ESM import and a CommonJS require that each make one request to a
// loopback server, and TypeScript type-checks of every README example under
// `module: nodenext` (a "type": "module" and a "type": "commonjs" consumer) and
// `moduleResolution: bundler`, then under the tsconfig.json that `tsc --init` writes (with
// `"types": []` and `["node"]`) on TypeScript 5.9, 6 and the registry's latest. It runs on
// whichever Node runs the suite, so CI checks require(esm) on every supported line. Needs
// `dist/` built (`npm test` does that first).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { exampleFile, readmeExamples } from '../readme/examples.js';
import { installCompilers, type Compiler } from './typescripts.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const typeRoots = path.join(root, 'node_modules', '@types');

interface Run {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} (in ${cwd}): ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const npm = (args: string[], cwd: string): Promise<Run> => run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, cwd);

/** The README's complete TypeScript examples (test/readme/examples.ts), each as its own file. */
function readmeFiles(wrap: (code: string) => string = (c) => c): Record<string, string> {
  const examples = readmeExamples().filter((e) => e.typescript);
  if (examples.length === 0) throw new Error('README.md has no complete TypeScript example');
  return Object.fromEntries(examples.map((e) => [exampleFile(e), wrap(e.code)]));
}

/** The example for a CommonJS module, which has no top-level await: the body goes in a function. */
function inAsyncFunction(example: string): string {
  const lines = example.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import '));
  return `${imports.join('\n')}\n\nexport async function main(): Promise<void> {\n${body.map((l) => `  ${l}`).join('\n')}\n}\n`;
}

// One request against a node:http server on loopback, with the package loaded by `load`.
const REQUEST = (load: string): string => `${load}
const http = require('node:http');
const server = http.createServer((req, res) => res.end('packed ' + req.url));
server.listen(0, '127.0.0.1', async () => {
  const pool = new hcp.Pool({ baseURL: 'http://127.0.0.1:' + server.address().port, size: 1 });
  const res = await pool.get('/x');
  await pool.close();
  server.close();
  console.log(JSON.stringify({ status: res.statusCode, text: res.text(), same: await same() }));
});
`;

// skipLibCheck: checking all of @types/node costs seconds per consumer; the shipped .d.ts files
// are tsc's own output, and the example's uses of them are still checked.
function tsconfig(compilerOptions: Record<string, unknown>): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022', strict: true, skipLibCheck: true, types: ['node'], typeRoots: [typeRoots], ...compilerOptions,
    },
    include: ['*.ts'],
  }, null, 2);
}

function write(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

describe('pack: the package as npm run tarball makes it', function () {
  this.timeout(120_000);
  let tmp = '';
  let consumer = '';
  let packed: string[] = [];
  let installed: Run = { stdout: '', stderr: '' };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-pack-'));
    // The tarball as the README makes it (`npm run tarball`): staged, its package.json without scripts.
    const out = await run(process.execPath, [path.join(root, 'scripts', 'tarball.mjs'), '--json', '--pack-destination', tmp], root);
    const info = (JSON.parse(out.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
    packed = info.files.map((f) => f.path).sort();
    consumer = path.join(tmp, 'consumer');
    write(consumer, { 'package.json': JSON.stringify({ name: 'consumer', private: true }) });
    // Scripts allowed, as a user installs: the tarball must have none to run or warn about.
    installed = await npm(['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', path.join(tmp, info.filename)], consumer);
    // The @types/node a TypeScript consumer installs (the .d.ts files reference it).
    fs.mkdirSync(path.join(consumer, 'node_modules', '@types'), { recursive: true });
    fs.symlinkSync(path.join(typeRoots, 'node'), path.join(consumer, 'node_modules', '@types', 'node'), 'dir');

    write(path.join(consumer, 'esm'), {
      'package.json': JSON.stringify({ type: 'module' }),
      'tsconfig.json': tsconfig({ module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true }),
      ...readmeFiles(),
      'run.js': REQUEST("import { createRequire } from 'node:module';\nimport * as hcp from 'http-client-pool';\n" +
        'const require = createRequire(import.meta.url);\nconst same = async () => require(\'http-client-pool\').Pool === hcp.Pool;'),
    });
    write(path.join(consumer, 'cjs'), {
      'package.json': JSON.stringify({ type: 'commonjs' }),
      'tsconfig.json': tsconfig({ module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out' }),
      ...readmeFiles(inAsyncFunction),
      // Compiled by tsc to require(): the case that used to fail only at run time.
      'probe.ts': "import { Pool } from 'http-client-pool';\nconsole.log(typeof Pool);\n",
      'run.js': REQUEST("const hcp = require('http-client-pool');\n" +
        "const same = async () => (await import('http-client-pool')).Pool === hcp.Pool;"),
    });
    write(path.join(consumer, 'bundler'), {
      'package.json': JSON.stringify({ type: 'module' }),
      'tsconfig.json': tsconfig({ module: 'ESNext', moduleResolution: 'Bundler', noEmit: true }),
      ...readmeFiles(),
    });
  });

  after(() => {
    if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships dist, README.md, LICENSE and package.json only: no tests, sources or source maps', () => {
    const outside = packed.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p));
    expect(outside, 'files outside dist/').to.deep.equal([]);
    expect(packed.filter((p) => p.endsWith('.map')), 'source maps').to.deep.equal([]);
    expect(packed.filter((p) => /test|\.ts$/.test(p) && !p.endsWith('.d.ts')), 'tests or sources').to.deep.equal([]);
    expect(packed).to.include.members(['package.json', 'README.md', 'LICENSE']);
  });

  it('installs without running or warning about any script: the packed package.json has none of install time', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'http-client-pool', 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    const installTime = ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare'];
    expect(Object.keys(pkg.scripts ?? {}).filter((k) => installTime.includes(k))).to.deep.equal([]);
    expect(`${installed.stdout}\n${installed.stderr}`).to.not.match(/install.scripts?|allowScripts/i);
  });

  it('every file package.json points at is packed, and LICENSE is the license it names', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'http-client-pool', 'package.json'), 'utf8')) as {
      main: string; types: string; license: string; bin: Record<string, string>;
      exports: { '.': Record<string, string> }; sideEffects: boolean | string[];
    };
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports['.']), ...Object.values(pkg.bin),
      ...(Array.isArray(pkg.sideEffects) ? pkg.sideEffects : [])];
    for (const t of targets) expect(packed, t).to.include(path.posix.normalize(t));
    expect(pkg.exports['.'], 'a require() needs a condition it matches').to.have.property('default');
    expect(fs.readFileSync(path.join(consumer, 'node_modules', 'http-client-pool', 'LICENSE'), 'utf8')).to.match(new RegExp(`^${pkg.license} License`));
  });

  it('ESM: import works and is the same module as require()', async () => {
    const { stdout } = await run(process.execPath, ['run.js'], path.join(consumer, 'esm'));
    expect(JSON.parse(stdout)).to.deep.equal({ status: 200, text: 'packed /x', same: true });
  });

  it('CommonJS: require() works and is the same module as import()', async () => {
    const { stdout } = await run(process.execPath, ['run.js'], path.join(consumer, 'cjs'));
    expect(JSON.parse(stdout)).to.deep.equal({ status: 200, text: 'packed /x', same: true });
  });

  it("TypeScript: the README's examples type-check (nodenext ESM and CommonJS, bundler) against the tarball", async () => {
    // allSettled: no tsc may still be writing into the scratch folder when `after` removes it.
    const settled = await Promise.allSettled(['esm', 'cjs', 'bundler'].map((dir) =>
      run(process.execPath, [tsc, '-p', '.', '--listFiles'], path.join(consumer, dir))));
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    for (const { stdout } of settled.map((s) => (s as PromiseFulfilledResult<Run>).value)) {
      const files = stdout.split('\n');
      expect(files.some((f) => f.endsWith('/consumer/node_modules/http-client-pool/dist/index.d.ts')), stdout).to.equal(true);
      expect(files.filter((f) => f.startsWith(root + path.sep) && !f.includes('/node_modules/')), 'resolved in the worktree').to.deep.equal([]);
    }
    // The CommonJS consumer's import compiles to require(), and that runs.
    const probe = path.join(consumer, 'cjs', 'out', 'probe.js');
    expect(fs.readFileSync(probe, 'utf8')).to.include('require("http-client-pool")');
    expect((await run(process.execPath, [probe], path.join(consumer, 'cjs'))).stdout.trim()).to.equal('function');
  });

  describe('TypeScript 5.9, 6 and the latest, with the tsconfig.json `tsc --init` writes', function () {
    this.timeout(240_000);
    let compilers: Compiler[] = [];

    before(async function () {
      const got = await installCompilers(path.join(tmp, 'typescripts'));
      if (!got.ok) {
        console.log(`      skipped: ${got.reason}`);
        this.skip();
      }
      compilers = got.compilers;
    });

    it('installs 5.9, a 6 and the latest from the registry', () => {
      const majors = compilers.map((c) => Number(c.version.split('.')[0]));
      expect(compilers[0]!.version).to.match(/^5\.9\./);
      expect(majors, compilers.map((c) => c.version).join(', ')).to.include(6);
      expect(Math.max(...majors)).to.be.at.least(7);
    });

    it('every README example type-checks: ESM, "types": [] and ["node"], checking the .d.ts files too', async () => {
      // One folder per compiler and case, its tsconfig.json the compiler's own `tsc --init`.
      const cases: { dir: string; compiler: Compiler; args: string[] }[] = [];
      for (const [i, compiler] of compilers.entries()) {
        const base = path.join(consumer, `init-${i}`);
        write(base, {});
        await run(process.execPath, [compiler.tsc, '--init'], base);
        // (A "type": "commonjs" consumer of this config writes `import x = require()`: under its
        // verbatimModuleSyntax the examples' import is an error by design. The CommonJS case
        // is the nodenext test above.)
        const variants: [string, Record<string, unknown>][] = [
          ['esm', {}],
          // With @types/node named, and the shipped .d.ts files themselves checked (not what
          // --init writes, but a consumer may; skipLibCheck only hides errors, so this case
          // holds the one with it).
          ['esm-node-libcheck', { types: ['node'], skipLibCheck: false }],
        ];
        for (const [name, compilerOptions] of variants) {
          const dir = path.join(base, name);
          write(dir, {
            'package.json': JSON.stringify({ type: 'module' }),
            'tsconfig.json': JSON.stringify({ extends: '../tsconfig.json', compilerOptions }),
            ...readmeFiles(),
          });
          cases.push({ dir, compiler, args: [compiler.tsc, '-p', '.', '--noEmit', '--listFiles'] });
        }
      }
      // Two at a time (two cores); allSettled so nothing still writes when `after` cleans up.
      const failures: string[] = [];
      for (let i = 0; i < cases.length; i += 2) {
        const settled = await Promise.allSettled(cases.slice(i, i + 2).map(async (c) => {
          const listed = await run(process.execPath, c.args, c.dir);
          const files = listed.stdout.split('\n');
          expect(files.some((f) => f.endsWith('/node_modules/http-client-pool/dist/index.d.ts')), listed.stdout).to.equal(true);
        }));
        settled.forEach((r, k) => {
          if (r.status !== 'rejected') return;
          const errors = String(r.reason).split('\n').filter((l) => /error|Error:/.test(l) && !l.includes('/lib/lib.'));
          failures.push(`TypeScript ${cases[i + k]!.compiler.version}, ${path.basename(cases[i + k]!.dir)}:\n${errors.join('\n')}`);
        });
      }
      expect(failures, failures.join('\n\n')).to.deep.equal([]);
    });
  });
});
