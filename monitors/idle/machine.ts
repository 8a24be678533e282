/**
 * The afk state machine, as pure logic over samples of "milliseconds since the last input" (the X screensaver
 * counter, Electron's powerMonitor, or a test). Semantics follow ActivityWatch's afk watcher:
 * - idle starts once there was no input for `thresholdMs`; the start is back-dated to the last input;
 * - idle ends at the first input, and carries how long it lasted;
 * - a suspend (the clock jumped far beyond the poll interval between two samples) counts as idle, not active;
 * - a single stray input (a bumped mouse) does not end idle: input must go on within `confirmActiveMs`.
 */

export interface IdleMachineOptions {
  thresholdMs: number;
  /** 0 ends idle at the first input; otherwise a second input within this long confirms the user is back. */
  confirmActiveMs: number;
  /** A gap between samples longer than this means the machine was asleep. */
  suspendGapMs: number;
}

export type IdleTransition =
  | { kind: 'start'; at: number; reason: 'input' | 'suspend' }
  | { kind: 'end'; at: number; idleSince: number; durationMs: number };

type State =
  | { kind: 'active' }
  /** `seenInput`: the latest input already judged (a stray one), so only newer input counts. */
  | { kind: 'idle'; since: number; seenInput: number }
  | { kind: 'resuming'; since: number; firstInput: number };

/** Samples that disagree by less than this about the last input are the same input (timing jitter). */
const SAME_INPUT_MS = 400;

export class IdleMachine {
  private state: State = { kind: 'active' };
  private lastSampleAt: number | null = null;
  private lastInputAt: number | null = null;

  constructor(private readonly opts: IdleMachineOptions) {}

  get idle(): boolean {
    return this.state.kind !== 'active';
  }

  /** Feed one sample taken at `now` (ms since epoch) reporting `idleMs` since the last input. */
  sample(now: number, idleMs: number): IdleTransition[] {
    const out: IdleTransition[] = [];
    const lastInput = now - Math.max(0, idleMs);
    const prevSample = this.lastSampleAt;
    const prevInput = this.lastInputAt;
    this.lastSampleAt = now;
    this.lastInputAt = lastInput;

    // Asleep between the two samples: whatever the input counter says now, the time in between was not active.
    if (prevSample !== null && now - prevSample > this.opts.suspendGapMs && this.state.kind === 'active') {
      const since = Math.min(prevInput ?? prevSample, prevSample);
      this.state = { kind: 'idle', since, seenInput: since };
      out.push({ kind: 'start', at: since, reason: 'suspend' });
      // The counter of some servers keeps running across sleep; input after the wake is what ends it.
      if (lastInput <= prevSample + SAME_INPUT_MS) return out;
    }

    switch (this.state.kind) {
      case 'active':
        if (idleMs >= this.opts.thresholdMs) {
          this.state = { kind: 'idle', since: lastInput, seenInput: lastInput };
          out.push({ kind: 'start', at: lastInput, reason: 'input' });
        }
        break;
      case 'idle': {
        const { since, seenInput } = this.state;
        if (lastInput > seenInput + SAME_INPUT_MS) {
          if (this.opts.confirmActiveMs <= 0) {
            out.push(this.end(since, lastInput));
          } else {
            this.state = { kind: 'resuming', since, firstInput: lastInput };
          }
        }
        break;
      }
      case 'resuming': {
        const { since, firstInput } = this.state;
        if (lastInput > firstInput + SAME_INPUT_MS) {
          out.push(this.end(since, firstInput));
        } else if (now - firstInput >= this.opts.confirmActiveMs) {
          // Nothing followed the stray input: still away, and the idle period is not split.
          this.state = { kind: 'idle', since, seenInput: firstInput };
        }
        break;
      }
    }
    return out;
  }

  private end(since: number, at: number): IdleTransition {
    this.state = { kind: 'active' };
    return { kind: 'end', at, idleSince: since, durationMs: Math.max(0, at - since) };
  }
}
