import type { Clock } from '../../core/clock.js';

/** A clock that moves only when told: the notification center reads time only through its clock, so tests and the bench set it. */
export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
