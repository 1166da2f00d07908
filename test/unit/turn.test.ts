// The end of an event-loop turn (src/pool/turn.ts) on its own: who asks in a turn runs
// once at its end, together, and one that throws does not strand the others. How the
// origins use it is in test/contract/undici.test.ts.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { atTurnEnd, type TurnEnd } from '../../dist/pool/turn.js';

class Asker implements TurnEnd {
  again = false;
  constructor(
    private readonly name: string,
    private readonly log: string[],
  ) {}
  atTurnEnd(): void {
    this.log.push(this.name);
    if (this.again) {
      this.again = false;
      atTurnEnd(this);
    }
  }
}

describe('the end of an event-loop turn', () => {
  it('runs each that asked in a turn once, together, before immediates asked for after them; one asking while they run goes to the next turn', async () => {
    const log: string[] = [];
    const a = new Asker('a', log);
    const b = new Asker('b', log);
    b.again = true;
    atTurnEnd(a);
    atTurnEnd(b);
    log.push('caller');
    await new Promise<void>((resolve) => setImmediate(() => resolve(void log.push('later immediate'))));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).to.deep.equal(['caller', 'a', 'b', 'later immediate', 'b']);
  });

  it('runs the others when one throws, then lets the throw go on', () => {
    const url = new URL('../../dist/pool/turn.js', import.meta.url).href;
    const script = `
      import { atTurnEnd } from ${JSON.stringify(url)};
      const ran = [];
      process.on('uncaughtException', (err) => { console.log(JSON.stringify({ ran, err: err.message })); });
      atTurnEnd({ atTurnEnd() { ran.push('first'); throw new Error('a bug'); } });
      atTurnEnd({ atTurnEnd() { ran.push('second'); } });
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ ran: ['first', 'second'], err: 'a bug' });
  });
});
