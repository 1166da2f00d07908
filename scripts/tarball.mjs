#!/usr/bin/env node
// The tarball users install, made from a staging folder: the package.json in it has no
// scripts and no dev dependencies. Here `prepare` builds dist/ on `npm ci`; in a tarball npm
// would list that same script as an install script to approve. dist/ must be built first.
// Usage: node scripts/tarball.mjs [--pack-destination DIR] [--json]  (npm run tarball)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--pack-destination');
const dest = at >= 0 ? path.resolve(args[at + 1]) : root;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
  console.error('dist/ is not built: run npm run build first');
  process.exit(1);
}

const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-tarball-'));
try {
  const { scripts: _scripts, devDependencies: _dev, ...published } = pkg;
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  for (const f of pkg.files) fs.cpSync(path.join(root, f), path.join(stage, f), { recursive: true });
  const out = execFileSync('npm', ['pack', stage, '--pack-destination', dest, ...(args.includes('--json') ? ['--json'] : [])], {
    encoding: 'utf8',
  });
  process.stdout.write(out);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
