// A Node whose internal HTTP parser is missing or changed: the package still imports and
// NodePool still serves (it is the fallback), while `new Pool()` fails with one clear
// error naming the Node version instead of crashing later. Simulated in a child process
// by breaking `_http_common` before the library loads.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const index = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js')).href;

/**
 * Imports the package after `breakIt` ran, then (with `nodePool`) a NodePool GET
 * against a loopback server, then `new Pool()`. Prints one line per step.
 */
function runWith(breakIt: string, nodePool: boolean, nodeArgs: string[] = []): string[] {
  const script = `${breakIt};
    const http = require('node:http');
    (async () => {
      let lib;
      try { lib = await import(${JSON.stringify(index)}); console.log('imported'); }
      catch (e) { return console.log('import', e.name, e.code, e.message); }
      if (${nodePool}) {
        const server = http.createServer((q, s) => s.end('served')).listen(0, '127.0.0.1');
        await new Promise((r) => server.once('listening', r));
        const np = new lib.NodePool({ baseURL: 'http://127.0.0.1:' + server.address().port, size: 1 });
        console.log('NodePool', (await np.get('/')).text());
        await np.close();
        server.close();
      }
      try { new lib.Pool({ baseURL: 'http://127.0.0.1:1' }); console.log('Pool constructed'); }
      catch (e) { console.log('Pool', e.name, e.code, e.message); }
    })();`;
  const r = spawnSync(process.execPath, [...nodeArgs, '-e', script], { encoding: 'utf8', timeout: 15_000 });
  return r.stdout.trim().split('\n');
}

describe('parser binding', function () {
  this.timeout(20_000);

  it('loads on this Node: both backends work', () => {
    expect(runWith('', true)).to.deep.equal(['imported', 'NodePool served', 'Pool constructed']);
  });

  // The last case breaks node:http as well (it calls execute() itself): there only the import and Pool's error are checked.
  const cases: [string, string, RegExp, boolean][] = [
    ['HTTPParser missing', "require('node:http'); require('node:https'); delete require('_http_common').HTTPParser", /HTTPParser is not exported/, true],
    ['a callback slot missing', "delete require('_http_common').HTTPParser.kOnHeadersComplete", /HTTPParser\.kOnHeadersComplete is missing/, true],
    ['a method missing', "delete require('_http_common').HTTPParser.prototype.execute", /HTTPParser\.prototype\.execute is missing/, false],
  ];
  for (const [name, breakIt, detail, nodeHttpWorks] of cases) {
    it(`imports${nodeHttpWorks ? ', NodePool serves' : ''}, new Pool() fails with ParserUnavailableError naming the Node version: ${name}`, () => {
      const lines = runWith(breakIt, nodeHttpWorks);
      const expected = nodeHttpWorks ? ['imported', 'NodePool served'] : ['imported'];
      expect(lines.slice(0, -1)).to.deep.equal(expected);
      const pool = lines[lines.length - 1];
      expect(pool).to.match(/^Pool ParserUnavailableError HCP_PARSER_UNAVAILABLE /);
      expect(pool).to.include(`Node ${process.version}`);
      expect(pool).to.match(detail);
    });
  }

  it("with a preload that makes require('_http_common') throw: imports, NodePool serves, new Pool() fails", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-binding-'));
    const preload = path.join(dir, 'no-http-common.cjs');
    fs.writeFileSync(
      preload,
      `const Module = require('node:module');
       const load = Module._load;
       Module._load = function (request, ...rest) {
         if (request === '_http_common') throw new Error('_http_common is not available here');
         return load.call(this, request, ...rest);
       };`,
    );
    try {
      const [imported, nodePool, pool] = runWith('', true, ['--require', preload]);
      expect([imported, nodePool]).to.deep.equal(['imported', 'NodePool served']);
      expect(pool).to.match(/^Pool ParserUnavailableError HCP_PARSER_UNAVAILABLE /);
      expect(pool).to.include("require('_http_common') failed: _http_common is not available here");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
