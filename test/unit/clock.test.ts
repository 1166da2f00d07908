// The shared clock (src/conn/timers.ts) on its own: arm, disarm, re-arm, expiry order
// and deadlines due in one wake-up. No sockets. How the pools use it is in
// test/contract/timers.test.ts.
import { expect } from 'chai';
import { arm, armedCount, disarm, now, type Timed } from '../../dist/conn/timers.js';
import { turns, until } from '../helpers.js';


class Deadline implements Timed {
  deadline = 0;
  clockIndex = -1;
  expired = 0;
  armedAt = 0;
  constructor(
    readonly name: string,
    readonly log: string[],
    readonly onExpire: () => void = () => {},
  ) {}
  set(ms: number): void {
    this.armedAt = now();
    arm(this, ms);
  }
  expire(): void {
    this.expired++;
    this.log.push(this.name);
    this.onExpire();
  }
}

/** Spins the CPU for `ms`: makes every deadline below it due in one wake-up of the clock. */
function block(ms: number): void {
  const end = now() + ms;
  while (now() < end);
}

describe('timers: the clock (src/conn/timers.ts)', function () {
  this.timeout(3000);
  const live: Deadline[] = [];
  afterEach(() => {
    for (const d of live.splice(0)) disarm(d);
  });
  function deadline(name: string, log: string[], onExpire?: () => void): Deadline {
    const d = new Deadline(name, log, onExpire);
    live.push(d);
    return d;
  }
  function whenLogged(log: string[], n: number): Promise<void> {
    return until(() => log.length >= n, () => `${log.length} of ${n} deadlines expired`);
  }

  it('arm adds to the armed list, disarm removes it, and a disarmed deadline never expires', async () => {
    const log: string[] = [];
    const start = armedCount();
    const a = deadline('a', log);
    const b = deadline('b', log);
    a.set(20);
    b.set(30);
    expect(armedCount()).to.equal(start + 2);
    expect(a.deadline).to.be.above(0);
    disarm(a);
    expect(armedCount()).to.equal(start + 1);
    expect(a.deadline).to.equal(0);
    expect(a.clockIndex).to.equal(-1);
    disarm(a); // twice is harmless
    expect(armedCount()).to.equal(start + 1);
    await whenLogged(log, 1);
    expect(log).to.deep.equal(['b']);
    expect(armedCount()).to.equal(start);
    expect(b.clockIndex).to.equal(-1);
    expect(b.deadline).to.equal(0);
  });

  it('never expires a deadline before it is due (within the 1 ms slack)', async () => {
    const log: string[] = [];
    const at: number[] = [];
    const ds = [5, 15, 25].map((ms) => {
      const d = deadline(`d${ms}`, log, () => at.push(now() - d.armedAt));
      d.set(ms);
      return d;
    });
    await whenLogged(log, 3);
    ds.forEach((d, i) => expect(at[log.indexOf(d.name)]).to.be.at.least([5, 15, 25][i]! - 1));
  });

  it('a near deadline armed after a far one fires first, the far one stays armed', async () => {
    const log: string[] = [];
    const far = deadline('far', log);
    const near = deadline('near', log, () => {
      expect(far.clockIndex).to.be.at.least(0);
    });
    far.set(2000);
    near.set(10);
    await whenLogged(log, 1);
    expect(log).to.deep.equal(['near']);
    expect(far.expired).to.equal(0);
  });

  it('arming with 0 ms disarms', async () => {
    const log: string[] = [];
    const start = armedCount();
    const a = deadline('a', log);
    const b = deadline('b', log);
    a.set(10);
    expect(armedCount()).to.equal(start + 1);
    a.set(0);
    expect(armedCount()).to.equal(start);
    expect(a.clockIndex).to.equal(-1);
    expect(a.deadline).to.equal(0);
    b.set(30);
    await whenLogged(log, 1);
    expect(log).to.deep.equal(['b']);
  });

  it('a deadline re-armed before it is due fires once, at the new time', async () => {
    const log: string[] = [];
    const start = armedCount();
    const a = deadline('a', log);
    const b = deadline('b', log);
    a.set(10);
    a.set(20);
    a.set(30); // still one entry
    expect(armedCount()).to.equal(start + 1);
    b.set(60);
    await whenLogged(log, 2);
    expect(log).to.deep.equal(['a', 'b']);
    expect(a.expired).to.equal(1);
  });

  it('re-arming earlier moves the wake-up earlier', async () => {
    const log: string[] = [];
    const a = deadline('a', log);
    const b = deadline('b', log);
    a.set(2000);
    b.set(1000);
    a.set(5);
    await whenLogged(log, 1);
    expect(log).to.deep.equal(['a']);
    expect(b.expired).to.equal(0);
  });

  it('an expire callback may arm other deadlines, and itself again', async () => {
    const log: string[] = [];
    const c = deadline('c', log);
    let rounds = 0;
    const a: Deadline = deadline('a', log, () => {
      if (++rounds < 3) a.set(5); // re-arms itself from its own callback
      else c.set(5);
    });
    a.set(5);
    await whenLogged(log, 4);
    expect(log).to.deep.equal(['a', 'a', 'a', 'c']);
    expect(a.expired).to.equal(3);
  });

  it('deadlines due in the same wake-up each expire exactly once', async () => {
    const log: string[] = [];
    const ds = ['a', 'b', 'c'].map((n) => deadline(n, log));
    ds.forEach((d, i) => d.set(5 + i));
    block(20);
    await whenLogged(log, 3);
    expect([...log].sort()).to.deep.equal(['a', 'b', 'c']);
    ds.forEach((d) => expect(d.expired).to.equal(1));
  });

  it('a due deadline disarmed or re-armed by an earlier callback of the same wake-up is not expired now', async () => {
    const log: string[] = [];
    const b = deadline('b', log);
    const c = deadline('c', log);
    const a = deadline('a', log, () => {
      disarm(b);
      c.set(1000);
    });
    a.set(5);
    b.set(5);
    c.set(5);
    block(20); // all three due together; a comes first in the armed list
    await whenLogged(log, 1);
    await turns(2);
    expect(log).to.deep.equal(['a']);
    expect(b.expired).to.equal(0);
    expect(c.expired).to.equal(0);
    expect(c.clockIndex).to.be.at.least(0); // still armed for later
  });

  it('deadlines due in the same wake-up expire in deadline order', async () => {
    const log: string[] = [];
    const a = deadline('a', log);
    const b = deadline('b', log);
    const c = deadline('c', log);
    a.set(15);
    b.set(5);
    c.set(10);
    block(30);
    await whenLogged(log, 3);
    expect(log).to.deep.equal(['b', 'c', 'a']);
  });
});
