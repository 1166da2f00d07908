// Writes the README's options tables from OPTIONS (src/options.ts, built into dist/):
// the text between `<!-- options:pool -->` and `<!-- /options:pool -->`, and the same
// for `request`, and the Pool-only row of the backend table. test/unit/options.test.ts
// fails while the README differs from what this writes. Run: npm run build && npm run readme:options
import * as fs from 'node:fs';
import { optionsTable, poolOnlyRow } from '../dist/options.js';

const file = new URL('../README.md', import.meta.url);
let text = fs.readFileSync(file, 'utf8');
for (const scope of ['pool', 'request']) {
  const re = new RegExp(`(<!-- options:${scope} -->)[\\s\\S]*?(<!-- /options:${scope} -->)`);
  if (!re.test(text)) throw new Error(`README.md has no <!-- options:${scope} --> section`);
  text = text.replace(re, (_m, a, b) => `${a}\n${optionsTable(scope)}\n${b}`);
}
const row = /^\| Pool-only options \|.*$/m;
if (!row.test(text)) throw new Error('README.md has no "| Pool-only options |" row in its backend table');
text = text.replace(row, poolOnlyRow());
fs.writeFileSync(file, text);
