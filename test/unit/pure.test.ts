// Table-driven tests of the pure pieces: round-robin choice, wait queue, ring FIFO, URL
// handling and option validation. No sockets.
import { expect } from 'chai';
import { RoundRobin } from '../../dist/pool/choose.js';
import { Queue, type Queued } from '../../dist/pool/queue.js';
import { Fifo } from '../../dist/fifo.js';
import { joinPath, parseURL } from '../../dist/pool/target.js';
import { resolveOptions, defaults } from '../../dist/options.js';
import { InvalidArgumentError, Pool } from '../../dist/index.js';

class Item implements Queued<Item> {
  prev: Item | null = null;
  next: Item | null = null;
  queued = false;
  constructor(readonly n: number) {}
}

function drain(q: Queue<Item>): number[] {
  const out: number[] = [];
  for (let i = q.shift(); i !== null; i = q.shift()) out.push(i.n);
  return out;
}

const slot = (free: boolean) => ({ canTake: () => free });

describe('RoundRobin', () => {
  it('with every slot free, pick k returns k mod N', () => {
    const rr = new RoundRobin();
    const slots = Array.from({ length: 4 }, () => slot(true));
    expect(Array.from({ length: 9 }, () => rr.pick(slots, null))).to.deep.equal([0, 1, 2, 3, 0, 1, 2, 3, 0]);
  });

  it('skips busy slots and continues after the one chosen', () => {
    const rr = new RoundRobin();
    const slots = [slot(true), slot(false), slot(true)];
    expect([rr.pick(slots, null), rr.pick(slots, null), rr.pick(slots, null)]).to.deep.equal([0, 2, 0]);
  });

  it('returns -1 when no slot is free', () => {
    expect(new RoundRobin().pick([slot(false), slot(false)], null)).to.equal(-1);
  });

  it('asks each slot about the item itself', () => {
    const rr = new RoundRobin();
    const slots = [{ canTake: (x: string) => x === 'a' }, { canTake: (x: string) => x === 'b' }];
    expect([rr.pick(slots, 'b'), rr.pick(slots, 'a'), rr.pick(slots, 'c')]).to.deep.equal([1, 0, -1]);
  });

  it('when the slot at the cursor is busy, takes the slot that just woke it (hint) before scanning, and goes on after it', () => {
    const rr = new RoundRobin();
    const free = [false, true, true, true];
    const slots = free.map((_, i) => ({ canTake: () => free[i]! }));
    // Without the hint the scan from the cursor (0) would give 1.
    expect(rr.pick(slots, null, 3)).to.equal(3);
    free[3] = false;
    expect(rr.pick(slots, null, -1)).to.equal(1); // the cursor went on after 3: 0 is busy, 1 is next
  });

  it('with at most half the slots in use, a busy cursor slot gives way to the next free one, not to the hint', () => {
    const free = [false, true, true, true, true, true, true, true];
    const slots = free.map((_, i) => ({ canTake: () => free[i]! }));
    const rr = new RoundRobin();
    expect(rr.pick(slots, null, 5, 4)).to.equal(1);
    expect(rr.pick(slots, null, 5, 4), 'and goes on after it').to.equal(2);
    // One more in use than half: the hint, as at full load.
    const past = new RoundRobin();
    expect(past.pick(slots, null, 5, 5)).to.equal(5);
  });

  it('keeps strict round-robin order while the cursor slot can take, whatever the hint', () => {
    const rr = new RoundRobin();
    const slots = Array.from({ length: 4 }, () => slot(true));
    expect(Array.from({ length: 6 }, () => rr.pick(slots, null, 2))).to.deep.equal([0, 1, 2, 3, 0, 1]);
  });

  it('scans as before when the hinted slot cannot take either, or the hint is out of range', () => {
    const rr = new RoundRobin();
    const slots = [slot(false), slot(false), slot(true), slot(false)];
    expect([rr.pick(slots, null, 1), rr.pick(slots, null, 9)]).to.deep.equal([2, 2]);
  });
});

describe('Queue', () => {
  it('is FIFO, lets a request go first with unshift, and removes from the middle', () => {
    const q = new Queue<Item>();
    const items = [1, 2, 3, 4].map((n) => new Item(n));
    for (const i of items) q.push(i);
    q.remove(items[1]!);
    q.unshift(new Item(0));
    expect(q.length).to.equal(4);
    expect(drain(q)).to.deep.equal([0, 1, 3, 4]);
    expect(q.length).to.equal(0);
  });

  it('ignores removing an item that is not queued, and keeps head and tail right', () => {
    const q = new Queue<Item>();
    const a = new Item(1);
    const b = new Item(2);
    q.push(a);
    q.remove(b);
    q.remove(a);
    q.remove(a);
    expect(q.length).to.equal(0);
    q.push(b);
    expect(drain(q)).to.deep.equal([2]);
  });
});

describe('parseURL / joinPath', () => {
  const cases: [string, string, boolean, string, number, string][] = [
    // input, origin, secure, hostname, port, hostHeader
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080', false, '127.0.0.1', 8080, '127.0.0.1:8080'],
    ['https://localhost', 'https://localhost', true, 'localhost', 443, 'localhost'],
    ['http://[::1]:81/v1/', 'http://[::1]:81', false, '::1', 81, '[::1]:81'],
    ['HTTP://LOCALHOST:80', 'http://localhost', false, 'localhost', 80, 'localhost'],
  ];
  for (const [input, origin, secure, hostname, port, hostHeader] of cases) {
    it(`parses ${input}`, () => {
      const { target } = parseURL(input, true);
      expect(target).to.include({ origin, secure, hostname, port, hostHeader });
    });
  }

  it('keeps the base path without its trailing slash', () => {
    expect(parseURL('http://127.0.0.1/v1/', true).target.basePath).to.equal('/v1');
    expect(parseURL('http://127.0.0.1/', true).target.basePath).to.equal('');
  });

  it('gives the path and query of an absolute call URL', () => {
    expect(parseURL('http://127.0.0.1/a/b?x=1#frag', false).path).to.equal('/a/b?x=1');
  });

  for (const bad of ['ftp://127.0.0.1', 'not a url', 'http://user:pw@127.0.0.1', 'file:///etc/passwd']) {
    it(`refuses ${bad}`, () => {
      expect(() => parseURL(bad, false)).to.throw(InvalidArgumentError);
    });
  }

  for (const bad of ['http://127.0.0.1/?q=1', 'http://127.0.0.1/#x', 'http://127.0.0.1/?']) {
    it(`refuses a query or fragment in baseURL ${bad}`, () => {
      expect(() => parseURL(bad, true)).to.throw(InvalidArgumentError, /query or fragment/);
    });
  }

  const joins: [string, string, string][] = [
    ['', '/a', '/a'],
    ['/v1', '/a', '/v1/a'],
    ['/v1', 'a', '/v1/a'],
    ['', 'a', '/a'],
    ['/v1', '?x=1', '/v1?x=1'],
    ['', '?x=1', '/?x=1'],
  ];
  for (const [base, path, want] of joins) {
    it(`joins ${JSON.stringify(base)} + ${JSON.stringify(path)}`, () => expect(joinPath(base, path)).to.equal(want));
  }
});

describe('options', () => {
  it('has the documented defaults', () => {
    const c = resolveOptions(undefined, 'Pool');
    expect(c).to.include({
      baseURL: '',
      size: 8,
      dialTimeout: 10_000,
      tlsTimeout: 10_000,
      responseHeaderTimeout: 30_000,
      requestTimeout: 0,
      idleConnTimeout: 60_000,
      insecureSkipVerify: false,
      maxHeaderSize: 16_384,
      maxResponseSize: Infinity,
    });
    expect(defaults.size).to.equal(8);
  });

  const bad: [string, unknown][] = [
    ['size', 0],
    ['size', -1],
    ['size', 1.5],
    ['size', NaN],
    ['size', '8'],
    ['dialTimeout', -1],
    ['tlsTimeout', NaN],
    ['responseHeaderTimeout', Infinity],
    ['requestTimeout', 2 ** 31],
    ['idleConnTimeout', '1s'],
    ['maxHeaderSize', 0],
    ['maxResponseSize', -1],
    ['insecureSkipVerify', 'yes'],
    ['baseURL', 42],
    ['tls', null],
    ['headers', 'x'],
    ['socketPath', ''],
  ];
  for (const [name, value] of bad) {
    it(`refuses ${name}: ${String(value)} at construction`, () => {
      expect(() => new Pool({ [name]: value })).to.throw(InvalidArgumentError, name);
    });
  }

  it('refuses bad default headers at construction', () => {
    expect(() => new Pool({ headers: { 'x\r\ny': '1' } })).to.throw(InvalidArgumentError);
    expect(() => new Pool({ headers: { x: 'a\r\nb' } })).to.throw(InvalidArgumentError);
    expect(() => new Pool({ headers: { 'transfer-encoding': 'chunked' } })).to.throw(InvalidArgumentError);
  });

  it('accepts 0 to turn a timer off', () => {
    expect(resolveOptions({ responseHeaderTimeout: 0, idleConnTimeout: 0 }, 'Pool')).to.include({ responseHeaderTimeout: 0, idleConnTimeout: 0 });
  });
});

describe('Fifo (ring queue of in-flight requests and parsed responses)', () => {
  it('keeps order across growth and wrap-around, with push, shift, at, removeAt, takeAll and clear', () => {
    const f = new Fifo<number>();
    const model: number[] = [];
    let next = 0;
    // A fixed pseudo-random walk over every operation, checked against an array.
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let step = 0; step < 5000; step++) {
      const op = rand(10);
      if (op < 4) {
        f.push(next);
        model.push(next++);
      } else if (op < 8) {
        expect(f.shift()).to.equal(model.shift());
      } else if (op < 9 && model.length > 0) {
        const i = rand(model.length);
        expect(f.indexOf(model[i]!)).to.equal(i);
        f.removeAt(i);
        model.splice(i, 1);
      } else if (rand(50) === 0) {
        expect(f.takeAll()).to.deep.equal(model.splice(0));
      }
      const seen: number[] = [];
      for (let i = 0; i < f.length; i++) seen.push(f.at(i));
      expect(seen).to.deep.equal(model);
    }
    expect(f.indexOf(-1)).to.equal(-1);
    f.clear();
    expect([f.length, f.shift()]).to.deep.equal([0, undefined]);
  });
});
