// The proxy settings and the CONNECT exchange from strings and bytes, no sockets:
// proxy URLs, the environment's variables (lowercase first), NO_PROXY's forms, the
// CONNECT head, and the proxy's answer split at every offset.
import { expect } from 'chai';
import { connectHead, ConnectReply } from '../../dist/conn/proxy.js';
import { fromEnv, NoProxy, parseProxy, proxyFor, resolveProxy } from '../../dist/conn/proxy-env.js';
import { InvalidArgumentError, ProxyError } from '../../dist/index.js';

describe('proxy settings', () => {
  it('parses proxy URLs: scheme, default ports, percent-decoded credentials as Basic, extra headers', () => {
    const table: [unknown, { uri: string; secure: boolean; hostname: string; port: number; headers: Record<string, string> }][] = [
      ['http://p.test', { uri: 'http://p.test', secure: false, hostname: 'p.test', port: 80, headers: {} }],
      ['https://p.test', { uri: 'https://p.test', secure: true, hostname: 'p.test', port: 443, headers: {} }],
      [new URL('http://[::1]:3128'), { uri: 'http://[::1]:3128', secure: false, hostname: '::1', port: 3128, headers: {} }],
      [
        'http://us%40er:p%3Ass%20w@127.0.0.1:8080/ignored',
        { uri: 'http://127.0.0.1:8080', secure: false, hostname: '127.0.0.1', port: 8080, headers: { 'proxy-authorization': `Basic ${Buffer.from('us@er:p:ss w').toString('base64')}` } },
      ],
      [
        { uri: 'http://u:p@h.test:1', headers: { 'X-Note': 'a', 'Proxy-Authorization': 'Bearer t' } },
        { uri: 'http://h.test:1', secure: false, hostname: 'h.test', port: 1, headers: { 'x-note': 'a', 'proxy-authorization': 'Bearer t' } },
      ],
    ];
    for (const [input, want] of table) expect(parseProxy(input), String(input)).to.deep.equal(want);
  });

  it('refuses what is not a proxy URL', () => {
    for (const bad of ['', 'p.test:80', 'socks5://p.test', 'ftp://p.test', 42, null, { uri: 3 }, { uri: 'http://p', headers: 'x' }, 'http://%zz@p.test', { uri: 'http://p', headers: { 'x-a': 'v\r\nhost: evil' } }, { uri: 'http://p', headers: { 'bad name': 'v' } }]) {
      expect(() => parseProxy(bad), String(bad)).to.throw(InvalidArgumentError);
    }
    expect(() => resolveProxy('http://a', { HTTP_PROXY: 'http://b' }, {})).to.throw(InvalidArgumentError, /both/);
  });

  it('reads the environment, lowercase first; an empty variable is unset', () => {
    const table: [Record<string, string>, string | null, string | null][] = [
      [{ HTTP_PROXY: 'http://up:1', http_proxy: 'http://low:1' }, 'http://low:1', null],
      [{ HTTPS_PROXY: 'http://up:2', https_proxy: '' }, null, 'http://up:2'],
      [{ https_proxy: 'https://s:3' }, null, 'https://s:3'],
      [{ NO_PROXY: '*' }, null, null],
    ];
    for (const [env, http, https] of table) {
      const s = fromEnv(env, 'env');
      expect([s?.http?.uri ?? null, s?.https?.uri ?? null], JSON.stringify(env)).to.deep.equal([http, https]);
    }
    expect(resolveProxy(undefined, undefined, { HTTP_PROXY: 'http://x:1' })).to.equal(null);
    expect(resolveProxy(undefined, undefined, { HTTP_PROXY: 'http://x:1', NODE_USE_ENV_PROXY: '1' })?.http?.uri).to.equal('http://x:1');
    expect(resolveProxy(undefined, {}, { HTTP_PROXY: 'http://x:1', NODE_USE_ENV_PROXY: '1' })).to.equal(null);
  });

  it('NO_PROXY: names and their subdomains, .suffix for subdomains only, host:port, IP literals and networks, *', () => {
    const list = new NoProxy('example.com, .internal.test  *.wild.test,Host.With.Port:8080 ,127.0.0.2 [::1]:443 10.1.0.0/16,fd00::/8');
    const table: [string, number, boolean][] = [
      ['example.com', 80, true],
      ['api.example.com', 443, true],
      ['EXAMPLE.COM.', 80, true],
      ['notexample.com', 80, false],
      ['internal.test', 80, false],
      ['a.internal.test', 80, true],
      ['a.b.wild.test', 80, true],
      ['wild.test', 80, false],
      ['host.with.port', 8080, true],
      ['host.with.port', 80, false],
      ['127.0.0.2', 1, true],
      ['127.0.0.1', 1, false],
      ['::1', 443, true],
      ['0:0:0:0:0:0:0:1', 443, true],
      ['::1', 80, false],
      ['10.1.200.3', 80, true],
      ['10.2.0.1', 80, false],
      ['fd12::5', 80, true],
      ['other.test', 80, false],
    ];
    for (const [host, port, direct] of table) expect(list.matches(host, port), `${host}:${port}`).to.equal(direct);
    expect(new NoProxy(' , * ').matches('anything', 1)).to.equal(true);
    expect(new NoProxy('').matches('anything', 1)).to.equal(false);
  });

  it('proxyFor: by the target scheme, NO_PROXY first', () => {
    const s = fromEnv({ http_proxy: 'http://h:1', no_proxy: 'skip.test' }, 'env');
    expect(proxyFor(s, false, 'a.test', 80)?.uri).to.equal('http://h:1');
    expect(proxyFor(s, true, 'a.test', 443)).to.equal(null);
    expect(proxyFor(s, false, 'skip.test', 80)).to.equal(null);
    expect(proxyFor(null, false, 'a.test', 80)).to.equal(null);
  });
});

describe('CONNECT exchange', () => {
  it('writes the CONNECT head with the authority (IPv6 bracketed) and the proxy headers', () => {
    expect(connectHead('api.test', 443, { 'proxy-authorization': 'Basic eDp5' }).toString('latin1')).to.equal(
      'CONNECT api.test:443 HTTP/1.1\r\nhost: api.test:443\r\nproxy-authorization: Basic eDp5\r\n\r\n',
    );
    expect(connectHead('::1', 8443, {}).toString('latin1')).to.equal('CONNECT [::1]:8443 HTTP/1.1\r\nhost: [::1]:8443\r\n\r\n');
  });

  it('reads the answer split at every offset, keeping bytes after the head', () => {
    const bytes = Buffer.from('HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n\x16\x03', 'latin1');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = new ConnectReply('http://p:1');
      const first = r.feed(bytes.subarray(0, cut));
      const done = first || r.feed(bytes.subarray(cut));
      expect(done, `cut ${cut}`).to.equal(true);
      expect([r.status, r.reason], `cut ${cut}`).to.deep.equal([200, 'Connection established']);
      // A chunk that completes the head leaves what follows it in `rest`; later chunks are the socket's.
      const headEnd = bytes.length - 2;
      const rest = cut < headEnd ? '\x16\x03' : cut === headEnd ? undefined : bytes.toString('latin1', headEnd, cut);
      expect(r.rest?.toString('latin1'), `cut ${cut}`).to.equal(rest);
    }
  });

  it('reads refusals, and refuses what is not an HTTP answer or is too long', () => {
    const r = new ConnectReply('http://p:1');
    expect(r.feed(Buffer.from('HTTP/1.0 407 Proxy Authentication Required\r\n\r\n'))).to.equal(true);
    expect(r.status).to.equal(407);
    expect(() => new ConnectReply('http://p:1').feed(Buffer.from('SSH-2.0-x\r\n\r\n'))).to.throw(ProxyError, /no HTTP status line/);
    expect(() => new ConnectReply('http://p:1').feed(Buffer.alloc(17 * 1024, 'a'))).to.throw(ProxyError, /longer than/);
  });
});
