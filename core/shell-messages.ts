/**
 * Every message between the desktop shell (Electron main) and the engine in its utility process, beside the
 * service protocol (which runs on MessagePorts handed over with `connect`): start-up and shutdown, secrets kept
 * encrypted by the shell, OS signals as events, idle samples. Types only, shared by both sides; each side checks
 * what it receives (the other process is ours, but a message can still be malformed).
 */
import type { NewEvent } from './event.js';


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

/** Owner (a monitor id, an action account…) → field → value. */
export type SecretsData = Record<string, Record<string, string>>;

/** Engine → shell, once at start: "give me my secrets". */
export interface SecretsRequestMessage {
  type: 'secrets-request';
}

/**
 * Shell → engine, the answer. `relay`: the shell keeps the secrets encrypted and here they are. `file`: encryption
 * is not usable here (the reason says why), so the engine keeps using the 0600 file in its data folder.
 */
export type SecretsReplyMessage = { type: 'secrets'; mode: 'relay'; data: SecretsData } | { type: 'secrets'; mode: 'file'; reason: string };

/** Engine → shell after every change: the whole set, so the shell never has to merge (and order cannot matter). */
export interface SecretsChangedMessage {
  type: 'secrets-changed';
  data: SecretsData;
}

/** Shell → engine: serve the protocol on the MessagePort sent with this message. */
export interface ConnectMessage {
  type: 'connect';
}

/** Shell → engine: close the store cleanly and exit. */
export interface ShutdownMessage {
  type: 'shutdown';
}

/** Shell → engine: an OS signal (lock, suspend, power) to store as an event like any monitor's. */
export interface EmitMessage {
  type: 'emit';
  source: string;
  event: NewEvent;
}

/** Engine → shell: the engine is open; `configError` says why the config document was not loaded, if so. */
export interface ReadyMessage {
  type: 'ready';
  configError: string | null;
}

export type ShellToEngineMessage = ConnectMessage | ShutdownMessage | EmitMessage | IdleSampleMessage | SecretsReplyMessage;
export type EngineToShellMessage = ReadyMessage | IdleWatchMessage | SecretsRequestMessage | SecretsChangedMessage;
