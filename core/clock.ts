/** Wall time when live, event time in replays and tests: rules and flags never call Date.now() directly. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
