import { expect } from 'chai';
import { cleanup, httpServer, pool } from '../helpers.js';

describe('smoke', () => {
  afterEach(cleanup);
  it('GETs and POSTs JSON against node:http', async () => {
    const { url } = await httpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, body })));
    });
    const p = pool({ baseURL: url + '/api', size: 2 });
    const got = await p.get('/a');
    expect(got.statusCode).to.equal(200);
    expect(got.json()).to.deep.equal({ method: 'GET', url: '/api/a', body: '' });
    const posted = await p.post('/b', { x: 1 });
    expect(posted.json()).to.deep.equal({ method: 'POST', url: '/api/b', body: '{"x":1}' });
  });
});
