// The README's complete examples, read from README.md itself (by test/readme and test/pack).
//
// The rule (README.md says it too, under "Examples in this README"): a fenced block whose
// language is ts, typescript, js, javascript, mjs or cjs and whose code imports
// 'http-client-pool' (`from 'http-client-pool'` or `require('http-client-pool')`) is a
// complete example: it is run, and a TypeScript one is type-checked. A block whose info
// string carries the word `fragment` (```ts fragment) is not, whatever it imports. Any other
// block (a signature, a shape, a server to start by hand) is text.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Example {
  /** `README.md:LINE`, the line of the opening fence. */
  readonly where: string;
  readonly line: number;
  readonly typescript: boolean;
  /** A script with require() and no import: run as CommonJS. */
  readonly commonjs: boolean;
  readonly code: string;
}

const LANGUAGES: Record<string, boolean> = { ts: true, typescript: true, js: false, javascript: false, mjs: false, cjs: false };
const IMPORTS = /\bfrom\s+['"]http-client-pool['"]|\brequire\(\s*['"]http-client-pool['"]\s*\)/;

/** Every complete example of `markdown` (README.md by default), in order. */
export function readmeExamples(markdown = fs.readFileSync(path.join(root, 'README.md'), 'utf8')): Example[] {
  const lines = markdown.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*(\S*)(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const fence = open[1]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith(fence)) end++;
    const code = lines.slice(i + 1, end).join('\n') + '\n';
    const lang = open[2]!.toLowerCase();
    const words = open[3]!.trim().split(/\s+/);
    if (lang in LANGUAGES && !words.includes('fragment') && IMPORTS.test(code)) {
      out.push({
        where: `README.md:${i + 1}`,
        line: i + 1,
        typescript: LANGUAGES[lang]!,
        commonjs: lang === 'cjs' || (lang !== 'mjs' && !/^\s*import\s/m.test(code) && /\brequire\(/.test(code)),
        code,
      });
    }
    i = end;
  }
  return out;
}

/** A file name for an example: example-LINE.ts / .mjs / .cjs. */
export function exampleFile(e: Example, typescript = e.typescript): string {
  return `example-${e.line}.${typescript ? 'ts' : e.commonjs ? 'cjs' : 'mjs'}`;
}
