// Fault injection over TLS: a loopback https server presenting a certificate for
// another host name, an expired one, and one from a CA nobody trusts. Each handshake
// fails with TLSError HCP_TLS in phase tls (nothing hangs: requestTimeout guards), and
// once the server presents the right certificate (setSecureContext, same origin) the
// same pool serves the next request. Both backends.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { TLSError } from '../../dist/index.js';
import { causeCode, cleanup, fixture, fixturesDir, listen, rejects, watchUnhandled } from '../helpers.js';
import { BACKENDS } from '../contract/backends.js';

interface KeyCert {
  key: Buffer;
  cert: Buffer;
}

describe('faults: TLS certificates', function () {
  this.timeout(15_000);
  afterEach(cleanup);

  let dir = '';
  const certs: Record<'wrongHost' | 'expired' | 'untrusted', KeyCert> = {} as never;
  const good: KeyCert = { key: fixture('server-key.pem'), cert: fixture('server.pem') };
  const ca = fixture('ca.pem');

  before(function () {
    this.timeout(30_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcp-faults-tls-'));
    const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
    const p = (f: string): string => path.join(dir, f);
    // A second CA, which the pools are never told about.
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=rogue CA', '-keyout', p('rogue-key.pem'), '-out', p('rogue.pem')]);
    const sign = (name: string, san: string, days: string, caCert: string, caKey: string): KeyCert => {
      run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(`${name}-key.pem`)]);
      run(['req', '-new', '-key', p(`${name}-key.pem`), '-subj', '/CN=test', '-out', p(`${name}.csr`)]);
      fs.writeFileSync(p(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
      run(['x509', '-req', '-in', p(`${name}.csr`), '-CA', caCert, '-CAkey', caKey, '-set_serial', String(Date.now()), '-days', days, '-extfile', p(`${name}.ext`), '-out', p(`${name}.pem`)]);
      return { key: fs.readFileSync(p(`${name}-key.pem`)), cert: fs.readFileSync(p(`${name}.pem`)) };
    };
    const fixCA = path.join(fixturesDir, 'ca.pem');
    const fixKey = path.join(fixturesDir, 'ca-key.pem');
    certs.wrongHost = sign('wrong-host', 'DNS:other.example', '30', fixCA, fixKey);
    certs.expired = sign('expired', 'DNS:localhost,IP:127.0.0.1', '-1', fixCA, fixKey);
    certs.untrusted = sign('untrusted', 'DNS:localhost,IP:127.0.0.1', '30', p('rogue.pem'), p('rogue-key.pem'));
  });
  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  const cases: ['wrongHost' | 'expired' | 'untrusted', string, string[]][] = [
    ['wrongHost', 'a certificate for another host name', ['ERR_TLS_CERT_ALTNAME_INVALID']],
    ['expired', 'an expired certificate', ['CERT_HAS_EXPIRED']],
    ['untrusted', 'a certificate from an untrusted CA', ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']],
  ];

  for (const backend of BACKENDS) {
    for (const [which, what, codes] of cases) {
      it(`${backend.name}: ${what}: TLSError HCP_TLS in phase tls; with the right certificate the pool serves the next request`, async () => {
        const stray = watchUnhandled();
        let served = 0;
        const server = https.createServer({ ...certs[which] }, (_req, res) => {
          served++;
          res.end('secure');
        });
        const port = await listen(server);
        const origin = `https://localhost:${port}`;
        const p = backend.pool({ baseURL: origin, size: 1, tls: { ca }, requestTimeout: 5000 });
        const err = await rejects(p.get('/'), TLSError, 'HCP_TLS');
        expect(err.phase).to.equal('tls');
        expect(err.origin).to.equal(origin);
        expect(causeCode(err)).to.be.oneOf(codes);
        expect(served).to.equal(0);
        // The same origin now presents the CA-signed "localhost" certificate.
        server.setSecureContext({ ...good });
        const res = await p.get('/');
        expect([res.statusCode, res.text()]).to.deep.equal([200, 'secure']);
        expect(served).to.equal(1);
        expect(stray).to.deep.equal([]);
      });
    }
  }
});
