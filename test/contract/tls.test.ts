// TLS, for each backend: verification, SNI, ALPN, mTLS, session resumption,
// round-robin over TLS sockets, and how TLS failures are reported (class, code,
// phase, origin, socketId, cause) and retried on other slots.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tls from 'node:tls';
import { expect } from 'chai';
import { ConnectError, HttpClientPoolError, SocketError, TLSError, type Client } from '../../dist/index.js';
import { causeCode, cleanup, defer, fixture, fixturesDir, httpsServer, listen, noStrayErrors, rejects } from '../helpers.js';
import { BACKENDS, supports } from './backends.js';

const ca = fixture('ca.pem');

/** What the server saw of each TLS connection, in 'secureConnection' order. */
interface Seen {
  servername: string | false | undefined;
  alpn: string | false | null;
  reused: boolean;
  protocol: string | null;
  remotePort: number | undefined;
  peerCN: string | undefined;
  authorized: boolean;
}

/** An https server (CA-signed "localhost" cert unless overridden) that records its TLS connections and answers with the client's port. */
async function tlsServer(
  options: https.ServerOptions = {},
  handler?: http.RequestListener,
): Promise<{ server: https.Server; port: number; seen: Seen[]; clientErrors: Error[] }> {
  const seen: Seen[] = [];
  const clientErrors: Error[] = [];
  const { server, port } = await httpsServer(
    handler ??
      ((req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ port: req.socket.remotePort }));
      }),
    options,
  );
  server.on('secureConnection', (s: tls.TLSSocket) => {
    const cert = s.getPeerCertificate();
    seen.push({
      servername: (s as tls.TLSSocket & { servername?: string | false }).servername,
      alpn: s.alpnProtocol,
      reused: s.isSessionReused(),
      protocol: s.getProtocol(),
      remotePort: s.remotePort,
      peerCN: cert?.subject?.CN as string | undefined,
      authorized: s.authorized,
    });
  });
  server.on('tlsClientError', (err: Error) => clientErrors.push(err));
  return { server, port, seen, clientErrors };
}

/** Certificates the fixtures lack, signed by the fixture CA (once per run): "api.test" (another host name) and an expired "localhost". */
let certs: { apiCert: Buffer; apiKey: Buffer; expiredCert: Buffer; expiredKey: Buffer } | null = null;
function extraCerts(): NonNullable<typeof certs> {
  if (certs !== null) return certs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-tls-'));
  try {
    const sign = (name: string, cn: string, san: string, days: string): void => {
      const key = path.join(dir, `${name}-key.pem`);
      const csr = path.join(dir, `${name}.csr`);
      const ext = path.join(dir, `${name}.ext`);
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
      execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', csr], { stdio: 'pipe' });
      fs.writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
      // -set_serial, not -CAcreateserial: nothing is written next to the fixtures.
      execFileSync(
        'openssl',
        ['x509', '-req', '-in', csr, '-CA', path.join(fixturesDir, 'ca.pem'), '-CAkey', path.join(fixturesDir, 'ca-key.pem'),
          '-set_serial', String(Date.now()), '-days', days, '-extfile', ext, '-out', path.join(dir, `${name}.pem`)],
        { stdio: 'pipe' },
      );
    };
    sign('api', 'api.test', 'DNS:api.test', '30');
    // -days -1: notAfter is yesterday.
    sign('expired', 'localhost', 'DNS:localhost,IP:127.0.0.1', '-1');
    certs = {
      apiCert: fs.readFileSync(path.join(dir, 'api.pem')),
      apiKey: fs.readFileSync(path.join(dir, 'api-key.pem')),
      expiredCert: fs.readFileSync(path.join(dir, 'expired.pem')),
      expiredKey: fs.readFileSync(path.join(dir, 'expired-key.pem')),
    };
    return certs;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const backend of BACKENDS) {
  describe(`${backend.name}: TLS`, function () {
    this.timeout(5000);
    afterEach(cleanup);

    let apiCert: Buffer;
    let apiKey: Buffer;
    let expiredCert: Buffer;
    let expiredKey: Buffer;
    before(() => {
      ({ apiCert, apiKey, expiredCert, expiredKey } = extraCerts());
    });

    describe('https: origins', () => {
      it('works with tls.ca against the CA-signed server by host name and by IP', async () => {
        const { port, seen } = await tlsServer();
        for (const host of ['localhost', '127.0.0.1']) {
          const p = backend.pool({ baseURL: `https://${host}:${port}`, size: 1, tls: { ca } });
          const res = await p.get('/x');
          expect(res.statusCode).to.equal(200);
          expect(res.json<{ port: number }>().port).to.equal(p.stats().origins[0]!.sockets[0]!.localPort);
        }
        expect(seen).to.have.length(2);
        for (const s of seen) expect(s.protocol).to.match(/^TLSv1\.[23]$/);
      });

      it('a 1 MiB Content-Length body arrives whole over TLS, and the socket serves the next request', async () => {
        const body = Buffer.alloc(1 << 20);
        for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
        let connections = 0;
        const { server, port } = await httpsServer((req, res) => {
          if (req.url === '/big') res.end(body);
          else res.end('next');
        });
        server.on('secureConnection', () => connections++);
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const res = await p.get('/big');
        expect(res.body.equals(body)).to.equal(true);
        expect((await p.get('/next')).text()).to.equal('next');
        expect(connections).to.equal(1);
      });

      it('works over IPv6 ([::1]), without SNI', async function () {
        const seen: (string | false | undefined)[] = [];
        const server = https.createServer({ key: fixture('server-key.pem'), cert: fixture('server.pem') }, (_req, res) => res.end('v6'));
        server.on('secureConnection', (s: tls.TLSSocket) => seen.push((s as tls.TLSSocket & { servername?: string | false }).servername));
        const sockets = new Set<net.Socket>();
        server.on('connection', (s: net.Socket) => {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
        });
        try {
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '::1', resolve);
          });
        } catch {
          this.skip(); // no IPv6 loopback here
        }
        defer(() => new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }));
        const port = (server.address() as net.AddressInfo).port;
        const p = backend.pool({ baseURL: `https://[::1]:${port}`, size: 1, tls: { ca } });
        expect((await p.get('/')).text()).to.equal('v6');
        expect(seen).to.have.length(1);
        expect(seen[0]).to.not.be.a('string');
      });
    });

    describe('SNI', () => {
      it('sends the host name as SNI', async () => {
        const { port, seen } = await tlsServer();
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        await p.get('/');
        expect(seen.map((s) => s.servername)).to.deep.equal(['localhost']);
      });

      it('sends no SNI for an IP literal', async () => {
        const { port, seen } = await tlsServer();
        const p = backend.pool({ baseURL: `https://127.0.0.1:${port}`, size: 1, tls: { ca } });
        await p.get('/');
        expect(seen).to.have.length(1);
        expect(seen[0]!.servername).to.not.be.a('string');
      });

      it('tls.servername overrides the SNI name and the name the certificate is checked against', async () => {
        const sni: string[] = [];
        const { port, seen } = await tlsServer({
          key: apiKey,
          cert: apiCert,
          SNICallback: (name, cb) => {
            sni.push(name);
            cb(null, undefined);
          },
        });
        // Connect by IP (which alone would send no SNI) and by "localhost": both present "api.test".
        for (const host of ['127.0.0.1', 'localhost']) {
          const p = backend.pool({ baseURL: `https://${host}:${port}`, size: 1, tls: { ca, servername: 'api.test' } });
          expect((await p.get('/')).statusCode).to.equal(200);
        }
        expect(sni).to.deep.equal(['api.test', 'api.test']);
        expect(seen.map((s) => s.servername)).to.deep.equal(['api.test', 'api.test']);
      });
    });

    describe('ALPN', () => {
      it('offers http/1.1 and the server negotiates it', async () => {
        const { port, seen } = await tlsServer({ ALPNProtocols: ['http/1.1'] });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        await p.get('/');
        expect(seen.map((s) => s.alpn)).to.deep.equal(['http/1.1']);
      });

      it('a server that speaks only h2 refuses the handshake: TLSError', async () => {
        const { port } = await tlsServer({ ALPNProtocols: ['h2'] });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(err.socketId).to.equal(0);
      });

      it('the TLSError carries the server\'s alert as its cause', async () => {
        const { port } = await tlsServer({ ALPNProtocols: ['h2'] });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(causeCode(err)).to.equal('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
      });
    });

    describe('certificate verification (on by default)', () => {
      it('refuses a self-signed certificate: TLSError, phase tls, origin, socketId, cause DEPTH_ZERO_SELF_SIGNED_CERT', async () => {
        const { port, seen } = await tlsServer({ key: fixture('self-signed-key.pem'), cert: fixture('self-signed.pem') });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1 });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(err.origin).to.equal(`https://localhost:${port}`);
        expect(err.socketId).to.equal(0);
        expect(causeCode(err)).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
        expect(seen).to.deep.equal([]); // the client never finished the handshake
        // A failed handshake is a failed dial, not a reconnect.
        expect(p.stats().origins[0]!.sockets[0]).to.include({ reconnects: 0 });
        expect(p.stats().origins[0]!.sockets[0]!.failedDials).to.be.at.least(1);
      });

      it('refuses a CA-signed certificate when the CA is not given', async () => {
        const { port } = await tlsServer();
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1 });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(causeCode(err)).to.be.oneOf(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);
      });

      it('ready() rejects with the TLSError of the failed handshake', async function () {
        if (!supports(backend, 'eager-dial')) this.skip(); // ready() resolves at once: nothing is dialed
        const { port } = await tlsServer({ key: fixture('self-signed-key.pem'), cert: fixture('self-signed.pem') });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 2 });
        const err = await rejects(p.ready(), TLSError, 'HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(err.origin).to.equal(`https://localhost:${port}`);
        expect(err.socketId).to.be.oneOf([0, 1]);
      });

      it('refuses an expired certificate: CERT_HAS_EXPIRED', async () => {
        const { port } = await tlsServer({ key: expiredKey, cert: expiredCert });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(causeCode(err)).to.equal('CERT_HAS_EXPIRED');
      });

      it('refuses a certificate for another host name: ERR_TLS_CERT_ALTNAME_INVALID', async () => {
        // A CA-signed "api.test" cert, reached as localhost and as 127.0.0.1.
        const api = await tlsServer({ key: apiKey, cert: apiCert });
        for (const host of ['localhost', '127.0.0.1']) {
          const p = backend.pool({ baseURL: `https://${host}:${api.port}`, size: 1, tls: { ca } });
          const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
          expect(err.phase).to.equal('tls');
          expect(err.origin).to.equal(`https://${host}:${api.port}`);
          expect(causeCode(err)).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
        }
        // The "localhost" cert, checked against a tls.servername it does not cover.
        const { port } = await tlsServer();
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca, servername: 'other.test' } });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(causeCode(err)).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
      });

      it('insecureSkipVerify: true accepts a self-signed certificate, an unknown CA and a wrong host name', async () => {
        const selfSigned = await tlsServer({ key: fixture('self-signed-key.pem'), cert: fixture('self-signed.pem') });
        const caSigned = await tlsServer();
        const cases: [number, Record<string, unknown>][] = [
          [selfSigned.port, {}],
          [caSigned.port, {}],
          [caSigned.port, { servername: 'other.test' }],
        ];
        for (const [port, extra] of cases) {
          const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, insecureSkipVerify: true, tls: extra });
          expect((await p.get('/')).statusCode).to.equal(200);
        }
        expect(selfSigned.seen).to.have.length(1);
        expect(caSigned.seen).to.have.length(2);
      });

      it('tls.rejectUnauthorized: false is passed through to tls.connect and skips verification too', async () => {
        // The tls options are passed to tls.connect as given: rejectUnauthorized: false there skips verification too.
        const { port } = await tlsServer({ key: fixture('self-signed-key.pem'), cert: fixture('self-signed.pem') });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { rejectUnauthorized: false } });
        expect((await p.get('/')).statusCode).to.equal(200);
      });
    });

    describe('mutual TLS', () => {
      const mtls = { requestCert: true, rejectUnauthorized: true, ca };

      it('with a client certificate: succeeds and the server sees CN test-client', async () => {
        const { port, seen } = await tlsServer(mtls, (req, res) => {
          const s = req.socket as tls.TLSSocket;
          res.end(JSON.stringify({ cn: s.getPeerCertificate().subject.CN, authorized: s.authorized }));
        });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca, cert: fixture('client.pem'), key: fixture('client-key.pem') } });
        const res = await p.get('/');
        expect(res.json()).to.deep.equal({ cn: 'test-client', authorized: true });
        expect(seen.map((s) => s.peerCN)).to.deep.equal(['test-client']);
      });

      // TLS 1.3: the client's handshake completes (secureConnect) before the server has
      // checked the client certificate, so the request is written and the server's
      // "certificate required" alert arrives while waiting for the response head:
      // SocketError in phase 'headers', every time (checked over several sockets).
      it('TLS 1.3 without a client certificate: SocketError (HCP_SOCKET, phase headers)', async () => {
        const { port, clientErrors, seen } = await tlsServer({ ...mtls, minVersion: 'TLSv1.3' });
        for (let i = 0; i < 3; i++) {
          const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
          const err = await rejects(p.get('/'), SocketError, 'HCP_SOCKET');
          expect(err.phase).to.equal('headers');
          expect(err.origin).to.equal(`https://localhost:${port}`);
          expect(err.socketId).to.equal(0);
        }
        expect(seen).to.deep.equal([]);
        expect(clientErrors.length).to.be.greaterThanOrEqual(3);
      });

      it('TLS 1.3 without a client certificate: the SocketError carries the TLS alert as its cause', async () => {
        const { port } = await tlsServer({ ...mtls, minVersion: 'TLSv1.3' });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const err = await rejects(p.get('/'), SocketError, 'HCP_SOCKET');
        expect(causeCode(err)).to.be.oneOf(['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ECONNRESET']);
      });

      it('TLS 1.2 without a client certificate: TLSError during the handshake', async () => {
        const { port } = await tlsServer({ ...mtls, maxVersion: 'TLSv1.2' });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(err.socketId).to.equal(0);
      });

      it('TLS 1.2 without a client certificate: the TLSError carries the server\'s alert as its cause', async () => {
        const { port } = await tlsServer({ ...mtls, maxVersion: 'TLSv1.2' });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        // OpenSSL names the alert SSLV3_ALERT_... (Node 20) or SSL/TLS_ALERT_... (Node 22+).
        expect(causeCode(err)).to.match(/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/);
      });
    });

    describe('session resumption', () => {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        it(`${version}: sockets of an origin opened after its first handshake resume its session`, async () => {
          const size = 4;
          const { port, seen } = await tlsServer({ minVersion: version, maxVersion: version });
          const p = backend.pool({ baseURL: `https://localhost:${port}`, size, tls: { ca } });
          const ports = new Set<number>();
          // One request at a time: request k opens (or, dialing eagerly, waits for) socket k.
          for (let i = 0; i < size; i++) ports.add((await p.get('/')).json<{ port: number }>().port);
          expect(ports.size).to.equal(size); // one request on each socket
          expect(seen).to.have.length(size);
          for (const s of seen) expect(s.protocol).to.equal(version);
          expect(seen[0]!.reused).to.equal(false); // nothing to resume yet
          expect(seen.slice(1).map((s) => s.reused)).to.deep.equal(Array(size - 1).fill(true));
        });

        it(`${version}: sockets 2..N dialing together with the first resume its session`, async function () {
          if (!supports(backend, 'tls-resume-every-socket')) this.skip(); // sockets dialing before the first ticket do full handshakes
          const size = 4;
          const { port, seen } = await tlsServer({ minVersion: version, maxVersion: version });
          const p = backend.pool({ baseURL: `https://localhost:${port}`, size, tls: { ca } });
          // All N sockets dial at once.
          const res = await Promise.all(Array.from({ length: size }, () => p.get('/')));
          expect(new Set(res.map((r) => r.json<{ port: number }>().port)).size).to.equal(size);
          expect(seen).to.have.length(size);
          expect(seen.filter((s) => s.reused).length).to.equal(size - 1);
        });
      }

      it('a socket re-dialed after the server closed it resumes too', async () => {
        let n = 0;
        const { port, seen } = await tlsServer({}, (_req, res) => {
          if (n++ === 0) res.setHeader('connection', 'close');
          res.end('x');
        });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        await p.get('/'); // closes the socket when done
        await p.get('/'); // dials again
        expect(seen.map((s) => s.reused)).to.deep.equal([false, true]);
        expect(p.stats().origins[0]!.sockets[0]!.reconnects).to.equal(1);
      });

      it('sessions are per origin: another origin does not resume them', async () => {
        const { port, seen } = await tlsServer();
        const p = backend.pool({ size: 1, tls: { ca } });
        await p.get(`https://localhost:${port}/`);
        await p.get(`https://127.0.0.1:${port}/`);
        expect(seen.map((s) => s.reused)).to.deep.equal([false, false]);
      });
    });

    describe('round-robin', () => {
      it('sequential request k goes out on TLS socket k mod N', async () => {
        const size = 3;
        const { port } = await tlsServer();
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size, tls: { ca } });
        const got: number[] = [];
        for (let k = 0; k < 3 * size; k++) got.push((await p.get('/')).json<{ port: number }>().port);
        const first = got.slice(0, size);
        expect(new Set(first).size).to.equal(size);
        expect(got).to.deep.equal(Array.from({ length: 3 * size }, (_, k) => first[k % size]));
        // Slot k is the socket with that local port.
        expect(p.stats().origins[0]!.sockets.map((s) => s.localPort)).to.deep.equal(first);
      });
    });

    describe('handshake failures', () => {
      /** A TCP server that never speaks TLS: `onConn` decides what happens to each connection. */
      async function rawTLSPeer(onConn: (s: net.Socket) => void): Promise<{ port: number }> {
        const server = net.createServer((s) => {
          s.on('error', () => {});
          onConn(s);
        });
        return { port: await listen(server) };
      }

      it('a server that closes after the ClientHello: TLSError phase tls, no uncaught error', async () => {
        await noStrayErrors(async () => {
          let hellos = 0;
          const { port } = await rawTLSPeer((s) =>
            s.once('data', () => {
              hellos++;
              s.destroy();
            }),
          );
          const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
          const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
          expect(err.phase).to.equal('tls');
          expect(err.origin).to.equal(`https://localhost:${port}`);
          expect(err.socketId).to.equal(0);
          expect(hellos).to.equal(1);
          // The slot is usable again: it re-dials (and fails the same way).
          await rejects(p.get('/'), TLSError, 'HCP_TLS');
          expect(hellos).to.equal(2);
        });
      });

      it('a server that closes right after accepting: TLSError phase tls, no uncaught error', async () => {
        await noStrayErrors(async () => {
          const { port } = await rawTLSPeer((s) => s.destroy());
          const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
          const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
          expect(err.phase).to.equal('tls');
          expect(err.socketId).to.equal(0);
        });
      });

      it('a server that ends (FIN) after the ClientHello: TLSError phase tls', async () => {
        await noStrayErrors(async () => {
          const { port } = await rawTLSPeer((s) => s.once('data', () => s.end()));
          const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
          const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
          expect(err.phase).to.equal('tls');
        });
      });

      it('a server that closes mid-handshake: the TLSError carries the socket error as its cause', async () => {
        const { port } = await rawTLSPeer((s) => s.once('data', () => s.destroy()));
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 1, tls: { ca } });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(causeCode(err)).to.equal('ECONNRESET');
      });

      it('a server that hangs up while a socket waits for the first session ticket: TLSError, not ConnectError', async function () {
        if (!supports(backend, 'tls-resume-every-socket')) this.skip(); // no socket waits for a ticket
        // The first socket to send a ClientHello is held (no answer); every other connection
        // (those waiting for its ticket) is closed before sending anything.
        let leader: net.Socket | null = null;
        const quiet = new Set<net.Socket>();
        const { port } = await rawTLSPeer((s) => {
          if (leader !== null) return void s.destroy();
          quiet.add(s);
          s.once('data', () => {
            quiet.delete(s);
            leader = s;
            for (const q of quiet) q.destroy();
            quiet.clear();
          });
        });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 3, tls: { ca } });
        const err = await rejects(p.ready(), HttpClientPoolError);
        expect(err).to.not.be.instanceOf(ConnectError);
        expect(err).to.be.instanceOf(TLSError);
        expect(err.code).to.equal('HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(err.socketId).to.be.oneOf([0, 1, 2]);
      });
    });

    describe('failed TLS dials and other slots', () => {
      /**
       * Size-2 pool whose slots are both Dead (sockets closed by `connection: close`),
       * with the round-robin cursor back on slot 0; `fail(n)` makes the next n handshakes fail.
       */
      async function deadSlots(): Promise<{ p: Client; port: number; refused: () => number; fail: (n: number) => void }> {
        let failNext = 0;
        let refused = 0;
        // Refused at the TCP level once accepted: SNICallback cannot be used, as a
        // server does not call it for a resumed session.
        const { server, port } = await tlsServer({}, (req, res) => {
          if (req.url === '/close') res.setHeader('connection', 'close');
          res.end(String(req.socket.remotePort));
        });
        server.prependListener('connection', (s: net.Socket) => {
          if (failNext > 0) {
            failNext--;
            refused++;
            s.destroy();
          }
        });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 2, tls: { ca } });
        await Promise.all([p.get('/close'), p.get('/close')]);
        const socks = p.stats().origins[0]!.sockets;
        expect(socks.map((s) => s.state)).to.deep.equal(['dead', 'dead']);
        return { p, port, refused: () => refused, fail: (n) => void (failNext = n) };
      }

      it('a request whose TLS dial failed moves to another slot and succeeds there', async () => {
        const { p, refused, fail } = await deadSlots();
        fail(1);
        const res = await p.get('/');
        expect(res.statusCode).to.equal(200);
        expect(refused()).to.equal(1);
        const [s0, s1] = p.stats().origins[0]!.sockets;
        expect(s0!.errors).to.equal(1);
        expect(s0!.state).to.equal('dead');
        expect(s1!.requests).to.equal(2);
        expect(Number(res.text())).to.equal(s1!.localPort);
      });

      it('after every slot failed its TLS dial, the request rejects with the last dial error', async () => {
        const { p, port, refused, fail } = await deadSlots();
        fail(Infinity);
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(err.origin).to.equal(`https://localhost:${port}`);
        expect(err.socketId).to.equal(1); // slot 0 failed first, then slot 1
        expect(refused()).to.equal(2); // one attempt per slot, no more
        expect(p.stats().origins[0]!.sockets.map((s) => s.errors)).to.deep.equal([1, 1]);
      });

      it('from construction on: a request on a pool whose every handshake fails rejects with the last slot\'s TLSError', async () => {
        const { port } = await tlsServer({ key: fixture('self-signed-key.pem'), cert: fixture('self-signed.pem') });
        const p = backend.pool({ baseURL: `https://localhost:${port}`, size: 2 });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(err.socketId).to.equal(1);
        expect(err.origin).to.equal(`https://localhost:${port}`);
        expect(causeCode(err)).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
      });
    });
  });
}
