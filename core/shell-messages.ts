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

/** A browser step before the page is read (the web monitor's "Browser steps"). */
export type RenderStepSpec = { kind: 'click'; selector: string } | { kind: 'type'; selector: string; text: string } | { kind: 'wait'; selector: string } | { kind: 'sleep'; ms: number };

/**
 * Engine → shell: load `url` in an offscreen window (the desktop app's rendered fetch), run the steps, and answer
 * with a `render-answer` of the same id. Every connection of that window goes through `proxy` — the engine's checking
 * proxy, which applies the address rule (base/address-rule.ts) and answers only these credentials — so the rule is
 * the engine's, whichever browser renders. `timeoutMs` covers load, steps and reading together.
 */
export interface RenderRequestMessage {
  type: 'render-request';
  id: number;
  url: string;
  steps: RenderStepSpec[];
  timeoutMs: number;
  maxBytes: number;
  proxy: { server: string; username: string; password: string };
  /**
   * Set for the page picker ("Pick on the page"): instead of the HTML, read the page for picking within these limits
   * (core/pick-read.ts, run in the window) and answer `pick` with what it found and a JPEG of the page's top.
   */
  pick?: PickLimits | null;
}

/** The page picker's limits, the engine's (monitors/web/pick.ts); the browser side only applies them. */
export interface PickLimits {
  /** A page with more elements is not read further (`nodes` says how many). */
  maxNodes: number;
  /** A document larger than this (UTF-8 bytes of its HTML) is not read further. */
  maxBytes: number;
  maxElements: number;
  /** The picture and the offered elements cover the page's top this high and this wide (CSS pixels). */
  maxHeight: number;
  maxWidth: number;
  maxText: number;
  /** Milliseconds of the timeout kept back from collecting elements, for the screenshot. */
  reserveMs: number;
}

/** What the picker's reading found (core/pick-read.ts): counts, the collected elements as JSON, the JPEG. Null fields: stopped at a limit. */
export interface PickAnswer {
  nodes: number;
  htmlBytes: number;
  collected: string | null;
  screenshot: Uint8Array | null;
}

/**
 * Shell → engine: what the window saw, facts only; the engine words them (monitors/web/shell-renderer.ts).
 * `status`/`refused`/`retryAfter`: the main document's HTTP status, its `x-panoptes-refused` header and Retry-After.
 * A failure says where (`phase`, `stepIndex`), whether the timeout ran out, the browser's error (`net::ERR_…` for
 * network errors) and the URL the page failed at (after redirects). For a pick request `html` is empty and `pick` says
 * what the reading found (`screenshot` is then that JPEG too).
 */
export type RenderAnswerMessage =
  | { type: 'render-answer'; id: number; ok: true; url: string; html: string; screenshot: Uint8Array; status: number | null; refused: string | null; retryAfter: string | null; pick?: PickAnswer | null }
  | { type: 'render-answer'; id: number; ok: false; phase: 'launch' | 'load' | 'step' | 'read'; stepIndex: number; timedOut: boolean; error: string; failedUrl: string | null };

/**
 * Shell → engine while a render loads: facts about the page's main document so far — the bytes the browser took in
 * (`documentBytes`, the larger of as sent and as decoded) and the size its headers declared (`declaredBytes`, null
 * when they did not) — so the engine can end the render the moment the document passes the page limit. Its checking
 * proxy sees a plain-HTTP document itself, but an HTTPS one only as a tunnel it cannot look into.
 */
export interface RenderProgressMessage {
  type: 'render-progress';
  id: number;
  documentBytes: number;
  declaredBytes: number | null;
}

/** Engine → shell: stop the render of that id (the check was stopped); its answer is no longer awaited. */
export interface RenderCancelMessage {
  type: 'render-cancel';
  id: number;
}

export type ShellToEngineMessage = ConnectMessage | ShutdownMessage | EmitMessage | IdleSampleMessage | SecretsReplyMessage | RenderAnswerMessage | RenderProgressMessage;
export type EngineToShellMessage = ReadyMessage | IdleWatchMessage | SecretsRequestMessage | SecretsChangedMessage | RenderRequestMessage | RenderCancelMessage;
