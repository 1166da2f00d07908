// diagnostics_channel events, for both backends.
import { expect } from 'chai';
import { BACKENDS } from './backends.js';
import { cleanup, httpServer, subscribe } from '../helpers.js';

const NAMES = ['connect', 'connect-error', 'request-start', 'response-headers', 'request-end', 'request-error'];

/** Records every event of every channel until the test ends. */
function record(): { name: string; message: Record<string, unknown> }[] {
  const events: { name: string; message: Record<string, unknown> }[] = [];
  for (const name of NAMES) subscribe(name, (message) => void events.push({ name, message: message as Record<string, unknown> }));
  return events;
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: diagnostics_channel`, () => {
    afterEach(cleanup);

    it('publishes connect, request-start, response-headers and request-end with one request id', async () => {
      const { url } = await httpServer((_req, res) => res.end('hello'));
      const events = record();
      const p = backend.pool({ baseURL: url, size: 1 });
      await p.get('/path?q=1');
      const names = events.map((e) => e.name);
      expect(names).to.deep.equal(['connect', 'request-start', 'response-headers', 'request-end']);
      const [connect, start, headers, end] = events.map((e) => e.message);
      expect(connect).to.include({ origin: url, socketId: 0, remoteAddress: '127.0.0.1', remotePort: Number(new URL(url).port), secure: false });
      const request = start!.request as { id: number; origin: string; method: string; path: string };
      expect(request).to.include({ origin: url, method: 'GET', path: '/path?q=1' });
      expect(start!.socketId).to.equal(0);
      expect((headers!.request as { id: number }).id).to.equal(request.id);
      expect(headers!.statusCode).to.equal(200);
      expect(headers!.rawHeaders).to.be.an('array');
      expect(end).to.deep.include({ statusCode: 200, bodyLength: 5 });
      expect((end!.request as { id: number }).id).to.equal(request.id);
    });

    it('a dispatched request publishes the same events, its head with its own status and headers', async () => {
      const { url } = await httpServer((_req, res) => res.writeHead(201, { 'x-mark': 'm' }).end('hello'));
      const p = backend.pool({ baseURL: url, size: 1 });
      await p.get('/warm');
      const events = record();
      await new Promise<void>((resolve, reject) => p.dispatch({ method: 'GET', path: '/d' }, { onResponseEnd: () => resolve(), onResponseError: (_c, e) => reject(e) }));
      expect(events.map((e) => e.name)).to.deep.equal(['request-start', 'response-headers', 'request-end']);
      const [start, headers, end] = events.map((e) => e.message);
      const id = (start!.request as { id: number }).id;
      expect((headers!.request as { id: number }).id).to.equal(id);
      expect(headers!.statusCode).to.equal(201);
      expect(headers!.rawHeaders).to.include('m');
      expect(end).to.deep.include({ statusCode: 201, bodyLength: 5 });
    });

    it('publishes connect-error and request-error', async () => {
      const { url, server } = await httpServer(() => {});
      await new Promise((r) => server.close(r));
      const events = record();
      const p = backend.pool({ baseURL: url, size: 1 });
      await p.get('/').catch(() => {});
      const names = events.map((e) => e.name);
      expect(names).to.include('connect-error');
      expect(names[names.length - 1]).to.equal('request-error');
      const err = events.find((e) => e.name === 'request-error')!.message.error as { code: string };
      expect(err.code).to.equal('HCP_CONNECT');
    });
  });
}
