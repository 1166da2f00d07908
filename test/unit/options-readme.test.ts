// The README's options tables and its backend table's Pool-only row are written from
// OPTIONS (src/options.ts) by `npm run readme:options`: the README must say what the code
// checks. A row added to OPTIONS and not to the README fails here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { OPTIONS, optionsTable, poolOnlyRow } from '../../dist/options.js';
import { DIFFERENCES } from '../contract/backends.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function section(scope: string): string {
  const m = new RegExp(`<!-- options:${scope} -->\\n([\\s\\S]*?)\\n<!-- /options:${scope} -->`).exec(readme);
  if (m === null) throw new Error(`README.md has no <!-- options:${scope} --> section`);
  return m[1]!;
}

describe('README options tables', () => {
  it('the constructor options table is the list the code checks (npm run readme:options)', () => {
    expect(section('pool')).to.equal(optionsTable('pool'));
  });

  it('the call options table is the list the code checks', () => {
    expect(section('request')).to.equal(optionsTable('request'));
  });

  it('the backend table names exactly the Pool-only options, as the contract suite does', () => {
    expect(readme.split('\n')).to.include(poolOnlyRow());
    const d = DIFFERENCES.find((x) => x.feature === 'pool-only-options')!;
    for (const o of OPTIONS.filter((x) => x.backends === 'Pool')) expect(d.NodePool).to.include(`\`${o.name}\``);
  });

  it('every option has a one-line meaning and a default to show', () => {
    for (const o of OPTIONS) {
      expect(o.doc, o.name).to.not.include('\n');
      expect(o.doc.length, o.name).to.be.greaterThan(5);
      expect(o.shown.length, o.name).to.be.greaterThan(0);
    }
    expect(new Set(OPTIONS.map((o) => o.name)).size).to.equal(OPTIONS.length);
  });
});
