// Pool only: request heads written straight to the socket's handle (src/conn/handle-write.ts).
// The common case (the kernel takes a head at once) runs in every other test; these
// are the heads it cannot take at once, which libuv finishes later.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { HeadersTimeoutError, WriteTimeoutError, type HttpClientPoolError } from '../../dist/index.js';
import { cleanup, listen, pool, rejects, reply, spawnChild, type ChildOptions } from '../helpers.js';

/** Far more than a loopback socket takes in one write: the write is always left to libuv. */
const BIG = 32 * 1024 * 1024;

/** A server that counts the bytes of each connection and answers at the end of the first head. */
async function counting(): Promise<{ url: string; received: () => number }> {
  let received = 0;
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let tail = '';
    socket.on('data', (d: Buffer) => {
      received += d.length;
      const text = tail + d.toString('latin1', Math.max(0, d.length - 4));
      tail = text.slice(-3);
      if (text.includes('\r\n\r\n')) socket.write(reply('got it'));
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, received: () => received };
}

describe('Pool only: heads written through the handle', function () {
  this.timeout(20_000);
  afterEach(cleanup);

  it('a head the kernel cannot take at once is finished later: the answer comes, and stats count every byte written', async () => {
    const { url, received } = await counting();
    const p = pool({ baseURL: url, size: 1 });
    expect((await p.get('/small')).text()).to.equal('got it');
    const res = await p.get('/big', { headers: { 'x-big': 'a'.repeat(BIG) } });
    expect(res.text()).to.equal('got it');
    // Another request on the same socket after it: the order of the bytes held.
    expect((await p.get('/after')).text()).to.equal('got it');
    const s = p.stats();
    expect(s.totals.reconnects).to.equal(0);
    expect(s.totals.bytesOut).to.equal(received());
  });

  it('once such a head has all left, the wait for the answer is the head timer\'s, not the write timer\'s', async () => {
    let received = 0;
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => (received += d.length)); // reads everything, never answers
    });
    const port = await listen(server);
    const p = pool({ baseURL: `http://127.0.0.1:${port}`, size: 1, responseHeaderTimeout: 300, writeTimeout: 60_000 });
    const err = await rejects(p.get('/big', { headers: { 'x-big': 'a'.repeat(BIG) } }), HeadersTimeoutError, 'HCP_HEADERS_TIMEOUT');
    expect(err.phase).to.equal('headers');
    expect(received).to.be.greaterThan(BIG);
  });

  it('a server that never reads such a head: WriteTimeoutError, nothing hangs', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.pause();
    });
    const port = await listen(server);
    const p = pool({ baseURL: `http://127.0.0.1:${port}`, size: 1, writeTimeout: 200 });
    const err = await rejects(p.get('/big', { headers: { 'x-big': 'a'.repeat(BIG) } }), WriteTimeoutError, 'HCP_WRITE_TIMEOUT');
    expect(err.phase).to.equal('write');
  });

  it('a server that resets the connection under such a head: the request fails with a typed error, once', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.resetAndDestroy());
    });
    const port = await listen(server);
    const p = pool({ baseURL: `http://127.0.0.1:${port}`, size: 1 });
    let settled = 0;
    const err = await p.get('/big', { headers: { 'x-big': 'a'.repeat(BIG) } }).then(
      () => expect.fail('no answer was sent'),
      (e: HttpClientPoolError) => {
        settled++;
        return e;
      },
    );
    expect(err.code).to.be.a('string');
    expect(settled).to.equal(1);
  });

  it('never makes Node warn: under --pending-deprecation (flag, NODE_OPTIONS or its variable) heads go through the socket', async () => {
    const index = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-')), 'child.mjs');
    fs.writeFileSync(
      script,
      `import * as http from 'node:http';
const { Pool } = await import(${JSON.stringify(index)});
const s = http.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1');
await new Promise((r) => s.once('listening', r));
const p = new Pool({ baseURL: 'http://127.0.0.1:' + s.address().port, size: 1 });
process.stdout.write((await p.get('/')).text());
await p.close();
s.close();
`,
    );
    const ways: ChildOptions[] = [{ execArgv: ['--pending-deprecation'] }, { env: { NODE_OPTIONS: '--pending-deprecation' } }, { env: { NODE_PENDING_DEPRECATION: '1' } }];
    for (const how of ways) {
      const { code, out, err } = await spawnChild(script, [], { ...how, ipc: false }).exited;
      expect(err, JSON.stringify(how)).to.not.include('DEP0111');
      expect([code, out]).to.deep.equal([0, 'ok']);
    }
  });
});
