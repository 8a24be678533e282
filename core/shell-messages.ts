/**
 * Messages between the desktop shell (Electron main) and the engine in its utility process, beside the service
 * protocol: the shell samples OS idle time for the idle monitor. Types only, shared by both sides.
 */

/** Engine → shell: sample every `intervalMs` (the fastest monitor's poll), or stop with null. */
export interface IdleWatchMessage {
  type: 'idle-watch';
  intervalMs: number | null;
}

/** Shell → engine: at `at` (ms since epoch) the OS said there was no input for `idleSeconds`. */
export interface IdleSampleMessage {
  type: 'idle-sample';
  at: number;
  idleSeconds: number;
}
