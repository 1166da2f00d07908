// Every complete example of README.md (the rule: test/readme/examples.ts) runs as pasted, in
// a child process of its own, against a loopback server: test/readme/loopback.ts sends
// every connection it makes to a name such as api.internal to that server. The example
// must exit 0, within the time, with nothing on stderr (an example that only shows an
// option or an error reaches no server, and need not). The harness itself is checked on an
// example of its own: Pool, NodePool, node:http and fetch to names, over TLS and plain, all
// reach the local server. The package resolves by its own name (package.json `exports`)
// to the built dist/.
// TypeScript examples are type-checked against the tarball's .d.ts in test/pack.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';
import { cleanup, defer, fixture, listen } from '../helpers.js';
import { exampleFile, readmeExamples, root, type Example } from './examples.js';

const dir = path.join(root, 'build', 'readme', 'examples');
const preload = pathToFileURL(path.join(root, 'build', 'readme', 'loopback.js')).href;

/**
 * One port for plain HTTP and TLS (the first byte tells them apart), answering every
 * request with a small JSON echo of it; counts the requests. As a proxy too: a request in
 * absolute form is echoed the same, and a CONNECT tunnel is answered 200 and then served
 * as a new connection (plain or TLS), so an example may name a proxy.
 */
async function exampleServer(): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  const app = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, path: req.url }));
    });
  });
  app.on('connect', (_req: http.IncomingMessage, tunnel: net.Socket, head: Buffer) => {
    tunnel.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length !== 0) tunnel.unshift(head);
    serve(tunnel);
  });
  const context = tls.createSecureContext({ key: fixture('server-key.pem'), cert: fixture('server.pem') });
  const serve = (socket: net.Socket): void => {
    socket.on('error', () => {});
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first[0] === 0x16) {
        // A TLSSocket over the net.Socket itself would read its handle and miss `first`.
        const secure = new tls.TLSSocket(replay(socket, first), { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
        secure.on('error', () => {});
        app.emit('connection', secure);
      } else {
        socket.unshift(first);
        app.emit('connection', socket);
      }
      socket.resume();
    });
  };
  const front = net.createServer(serve);
  defer(() => app.closeAllConnections());
  return { port: await listen(front), requests: () => requests };
}

/** A stream that gives `first` again, then the rest of `socket`, and writes to `socket`. */
function replay(socket: net.Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => void socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  d.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!d.push(chunk)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  return d;
}

/** The example as a file Node runs: TypeScript has its types stripped (types are not checked here). */
function write(e: Example): string {
  fs.mkdirSync(dir, { recursive: true });
  const code = e.typescript
    ? ts.transpileModule(e.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    : e.code;
  const file = path.join(dir, exampleFile(e, false));
  fs.writeFileSync(file, code);
  return file;
}

function runExample(file: string, port: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', preload, file], {
      cwd: dir,
      env: { ...process.env, HCP_EXAMPLE_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('README: every complete example runs as pasted', function () {
  this.timeout(30_000);
  afterEach(cleanup);
  const examples = readmeExamples();
  // Files of examples that moved or went: not to be mistaken for these.
  before(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the complete examples and skips the fragments', () => {
    const markdown = [
      '```ts', "import { Pool } from 'http-client-pool';", '```',
      '```ts fragment', "import { Pool } from 'http-client-pool';", '```',
      '```js', "const { Pool } = require('http-client-pool');", '```',
      '```ts', 'pool.get(path)', '```',
      '```sh', "echo \"from 'http-client-pool'\"", '```',
    ].join('\n');
    expect(readmeExamples(markdown).map((e) => [e.line, e.typescript, e.commonjs])).to.deep.equal([[1, true, false], [7, false, true]]);
    expect(examples.length, 'README.md has complete examples').to.be.at.least(2);
  });

  for (const e of examples) {
    it(`${e.where} (${e.typescript ? 'TypeScript' : 'JavaScript'})`, async () => {
      const server = await exampleServer();
      const r = await runExample(write(e), server.port);
      const said = `${e.where}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      expect(r.signal, `killed (hung past 15 s?): ${said}`).to.equal(null);
      expect(r.code, said).to.equal(0);
      expect(r.stderr, said).to.equal('');
    });
  }

  it('the harness: every connection to a name reaches the local server, plain and TLS, whatever makes it', async () => {
    const server = await exampleServer();
    const code = [
      "import * as http from 'node:http';",
      "import { NodePool, Pool } from 'http-client-pool';",
      "const pool = new Pool({ baseURL: 'https://api.internal:8443', size: 2 });",
      "const a = await pool.get('/pool');",
      "const node = new NodePool({ baseURL: 'http://backend.example.com:8080', size: 1 });",
      "const b = await node.get('/node-pool');",
      "const c = await (await fetch('https://fetch.example.org/fetch')).json();",
      "const d = await new Promise((resolve, reject) => http.get('http://plain.internal/http', (res) => {",
      "  let s = ''; res.on('data', (x) => (s += x)); res.on('end', () => resolve(JSON.parse(s)));",
      "}).on('error', reject));",
      'await pool.close(); await node.close();',
      'console.log(JSON.stringify([a.json().path, b.json().path, c.path, d.path]));',
    ].join('\n');
    const e = readmeExamples(['```js', code, '```'].join('\n'))[0]!;
    const r = await runExample(write({ ...e, line: 0 }), server.port);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal(['/pool', '/node-pool', '/fetch', '/http']);
    expect(server.requests()).to.equal(4);
  });
});
