// The Node version floor: the pure comparison, its agreement with `engines`, and the import of
// the package in a child process whose preload makes Node report an older version. That
// child must fail at once with ParserUnavailableError, before Node's HTTP parser is reached,
// and exit on its own.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { NODE_FLOOR, NODE_FLOOR_20, unsupportedNode } from '../../dist/node-version.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const index = path.join(root, 'dist', 'index.js');

// Preloaded with --require: reports HCP_FAKE_NODE as this Node's version and records whether
// anything requires `_http_common` (the parser glue reaches it through createRequire, which goes
// through Module.prototype.require).
const FAKE = `
const Module = require('node:module');
const v = process.env.HCP_FAKE_NODE;
Object.defineProperty(process.versions, 'node', { value: v });
Object.defineProperty(process, 'version', { value: 'v' + v });
globalThis.__httpCommon = false;
const req = Module.prototype.require;
Module.prototype.require = function (id) {
  if (id === '_http_common') globalThis.__httpCommon = true;
  return req.apply(this, arguments);
};
`;

// What the child prints: how the import ended, whether `_http_common` was reached by then,
// and (to show the hook sees it at all) whether requiring it afterwards is seen.
const REPORT = `
const report = (r) => {
  const seen = globalThis.__httpCommon;
  require('node:module').createRequire(process.cwd() + '/')('_http_common');
  console.log(JSON.stringify({ ...r, httpCommon: seen, hookWorks: globalThis.__httpCommon }));
};`;

const ESM_CHILD = `
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/');
${REPORT}
try {
  const m = await import(${JSON.stringify(pathToFileURL(index).href)});
  report({ loaded: typeof m.Pool });
} catch (e) {
  report({ name: e.name, code: e.code, message: e.message });
}`;

// Node 22.12.x also reports an error thrown while require() evaluates an ES module as an
// unhandled rejection (22.13.0 no longer does): only that same error is let pass.
const CJS_CHILD = `
${REPORT}
let caught;
process.on('unhandledRejection', (r) => { if (r !== caught) throw r; });
try {
  const m = require(${JSON.stringify(index)});
  report({ loaded: typeof m.Pool });
} catch (e) {
  caught = e;
  report({ name: e.name, code: e.code, message: e.message });
}`;

interface ChildReport {
  loaded?: string;
  name?: string;
  code?: string;
  message?: string;
  httpCommon: boolean;
  hookWorks: boolean;
}

let dir = '';
let fake = '';

function importAs(version: string, kind: 'esm' | 'cjs'): Promise<ChildReport> {
  const args = ['--require', fake];
  if (kind === 'esm') args.push('--input-type=module');
  args.push('-e', kind === 'esm' ? ESM_CHILD : CJS_CHILD);
  return new Promise((resolve, reject) => {
    // A child still running after 10 s has hung: the kill shows up as `signal` below.
    execFile(process.execPath, args, { cwd: dir, timeout: 10_000, env: { ...process.env, HCP_FAKE_NODE: version } },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`child (Node ${version}, ${kind}) failed: ${err.message} signal=${err.signal ?? ''}\n${stderr}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as ChildReport);
        } catch {
          reject(new Error(`child (Node ${version}, ${kind}) printed: ${stdout}\n${stderr}`));
        }
      });
  });
}

describe('pack: Node version floor', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-node-version-'));
    fake = path.join(dir, 'fake-node-version.cjs');
    fs.writeFileSync(fake, FAKE);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('engines in package.json names the same floor as the import check, and sideEffects keeps it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      engines: { node: string }; sideEffects: unknown;
    };
    expect(pkg.engines.node).to.equal(`^${NODE_FLOOR_20} || >=${NODE_FLOOR}`);
    // A bundler honouring `sideEffects` would otherwise drop the check's bare import.
    expect(pkg.sideEffects).to.deep.equal(['./dist/node-version.js']);
  });

  const table: [string, string | undefined][] = [
    ['18.20.8', NODE_FLOOR_20],
    ['20.5.0', NODE_FLOOR_20],
    ['20.18.3', NODE_FLOOR_20],
    ['20.19.1', NODE_FLOOR_20],
    ['20.19.2', undefined],
    ['20.19.10', undefined], // compared as numbers, not as text
    ['20.20.2', undefined],
    ['21.7.3', NODE_FLOOR],
    ['22.0.0', NODE_FLOOR],
    ['22.11.0', NODE_FLOOR],
    ['22.12.0', undefined],
    ['23.0.0', undefined],
    ['24.0.0', undefined],
    ['26.12.1', undefined],
    ['100.0.0', undefined],
  ];
  for (const [version, floor] of table) {
    it(`${version}: ${floor === undefined ? 'supported' : `refused, floor ${floor}`}`, () => {
      const problem = unsupportedNode(version);
      if (floor === undefined) {
        expect(problem).to.equal(undefined);
      } else {
        expect(problem).to.be.a('string').and.include(version).and.include(floor);
      }
    });
  }

  for (const kind of ['esm', 'cjs'] as const) {
    it(`${kind}: importing on a faked Node 20.19.1 throws ParserUnavailableError at once, before the parser is reached`, async () => {
      const r = await importAs('20.19.1', kind);
      expect(r.loaded).to.equal(undefined);
      expect(r.name).to.equal('ParserUnavailableError');
      expect(r.code).to.equal('HCP_PARSER_UNAVAILABLE');
      expect(r.message).to.include('20.19.1').and.include(NODE_FLOOR_20);
      expect(r.httpCommon, '_http_common required before the check').to.equal(false);
      expect(r.hookWorks, 'the preload did not see a require of _http_common').to.equal(true);
    });
  }

  it('esm: importing on a faked Node 22.11.0 names the 22-line floor', async () => {
    const r = await importAs('22.11.0', 'esm');
    expect(r.code).to.equal('HCP_PARSER_UNAVAILABLE');
    expect(r.message).to.include('22.11.0').and.include(NODE_FLOOR);
    expect(r.httpCommon).to.equal(false);
  });

  it('esm: importing on a faked Node at the floor loads the package', async () => {
    const r = await importAs(NODE_FLOOR_20, 'esm');
    expect(r, JSON.stringify(r)).to.include({ loaded: 'function' });
  });
});
