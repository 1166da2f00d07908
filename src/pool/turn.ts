// The end of an event-loop turn, for origins that hold requests until then. A caller
// such as fetch does much of its own work between two dispatch() calls, so requests
// written as each call comes are spread over the turn, and each write finds the server
// asleep and pays its wake-up (measured in the kernel's share of the write syscall).
// Held to the turn's check phase, after every I/O callback and microtask of the turn,
// they go out together: the server wakes once for all of them. One immediate a turn,
// shared by every origin of every pool; none while no origin asks.

export interface TurnEnd {
  /** Called once at the end of the turn in which it asked. */
  atTurnEnd(): void;
}

let due: TurnEnd[] = [];
let spare: TurnEnd[] = [];
let scheduled = false;

/** `o.atTurnEnd()` runs at the end of this turn (the caller asks once a turn). */
export function atTurnEnd(o: TurnEnd): void {
  due.push(o);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runDue);
}

function runDue(): void {
  scheduled = false;
  // Origins that ask again while these run (a request that could not be placed yet)
  // belong to the next turn: they go to the other list.
  const now = due;
  due = spare;
  spare = now;
  // One that throws (a bug) must not leave the others' requests waiting for a turn's end
  // that never comes: they all run, then the first throw goes on.
  let thrown: { err: unknown } | null = null;
  for (let i = 0; i < now.length; i++) {
    try {
      now[i]!.atTurnEnd();
    } catch (err) {
      thrown ??= { err };
    }
  }
  now.length = 0;
  if (thrown !== null) throw thrown.err;
}
