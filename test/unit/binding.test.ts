// A Node whose internal HTTP parser is missing or changed must fail at import with one
// clear error naming the Node version, not crash later. Simulated in a child process
// by breaking `_http_common` before the library loads.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const index = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js')).href;

function importWith(breakIt: string): { code: number | null; out: string } {
  const script = `${breakIt}; import(${JSON.stringify(index)}).then(() => console.log('loaded'), (e) => console.log(e.name, e.code, e.message))`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() };
}

describe('parser binding', () => {
  it('loads on this Node', () => {
    expect(importWith('').out).to.equal('loaded');
  });

  const cases: [string, string, RegExp][] = [
    ['HTTPParser missing', "require('node:http'); require('node:https'); delete require('_http_common').HTTPParser", /HTTPParser is not exported/],
    ['a callback slot missing', "delete require('_http_common').HTTPParser.kOnHeadersComplete", /HTTPParser\.kOnHeadersComplete is missing/],
    ['a method missing', "delete require('_http_common').HTTPParser.prototype.execute", /HTTPParser\.prototype\.execute is missing/],
  ];
  for (const [name, breakIt, detail] of cases) {
    it(`fails at import with ParserUnavailableError naming the Node version: ${name}`, () => {
      const { out } = importWith(breakIt);
      expect(out).to.match(/^ParserUnavailableError HCP_PARSER_UNAVAILABLE /);
      expect(out).to.include(`Node ${process.version}`);
      expect(out).to.match(detail);
    });
  }
});
