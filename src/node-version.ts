// Refuses, at import and before anything reaches Node's HTTP parser, a Node release older than
// the oldest one CI tests. Older 20.x releases ship llhttp 8, on which a header name with a
// space is accepted and a Pool hangs on a 304 or HEAD response carrying Content-Length; Node 21
// and 22 before 22.12 cannot require() this package. Only numbers are compared here: no other
// module is loaded. `engines` in package.json names the same range (test/pack checks it).
import { ParserUnavailableError } from './errors.js';

/** The oldest supported release of the Node 20 line (the first with llhttp 9). */
export const NODE_FLOOR_20 = '20.19.2';
/** The oldest supported release after the Node 20 line (the first 22.x with require(esm)). */
export const NODE_FLOOR = '22.12.0';

function parts(version: string): number[] {
  return version.split('.', 3).map((p) => Number.parseInt(p, 10) || 0);
}

function atLeast(version: string, floor: string): boolean {
  const v = parts(version);
  const f = parts(floor);
  for (let i = 0; i < 3; i++) {
    if (v[i]! !== f[i]!) return v[i]! > f[i]!;
  }
  return true;
}

/** Why `version` (like `process.versions.node`) is unsupported, or undefined when it is supported. */
export function unsupportedNode(version: string): string | undefined {
  const floor = parts(version)[0]! <= 20 ? NODE_FLOOR_20 : NODE_FLOOR;
  if (atLeast(version, floor)) return undefined;
  return `Node ${version} is older than ${floor}, the oldest supported release ` +
    `(engines: ^${NODE_FLOOR_20} || >=${NODE_FLOOR})`;
}

const problem = unsupportedNode(process.versions.node);
if (problem !== undefined) throw new ParserUnavailableError(problem);
