/**
 * A real X server for tests: Debian's Xvfb on a free display number, optionally with openbox as window manager
 * (focus changes, _NET_ACTIVE_WINDOW). Started by the test and stopped after it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export interface XServer {
  display: string;
  env: NodeJS.ProcessEnv;
  /** Run an X client (xdotool, xterm…) on this display. */
  run(cmd: string, args: string[]): ChildProcess;
  /** Run an X client and wait for it; throws on a non-zero exit. */
  exec(cmd: string, args: string[]): string;
  stop(): Promise<void>;
}

export async function startXvfb(options: { windowManager?: boolean } = {}): Promise<XServer> {
  let n = 90 + Math.floor(Math.random() * 400);
  while (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) n++;
  const display = `:${n}`;
  const children: ChildProcess[] = [];
  // -noreset: by default Xvfb resets whenever its last client disconnects, which also zeroes the screensaver idle
  // counter; a real desktop session always has clients (the window manager, the panel), so it never does that.
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp', '-noreset'], { stdio: 'ignore' });
  children.push(xvfb);
  const env = { ...process.env, DISPLAY: display };
  const exec = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };
  // Ready when a client can talk to it.
  for (let i = 0; ; i++) {
    if (spawnSync('xdpyinfo', [], { env, stdio: 'ignore' }).status === 0 || spawnSync('xprop', ['-root', '_XKB_RULES_NAMES'], { env, stdio: 'ignore' }).status === 0) break;
    if (i > 100 || xvfb.exitCode !== null) throw new Error(`Xvfb did not start on ${display}`);
    await sleep(50);
  }
  if (options.windowManager) {
    const wm = spawn('openbox', ['--sm-disable'], { env, stdio: 'ignore' });
    children.push(wm);
    for (let i = 0; ; i++) {
      const r = spawnSync('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'], { env, encoding: 'utf8' });
      if (/window id/.test(r.stdout)) break;
      if (i > 100) throw new Error('openbox did not start');
      await sleep(50);
    }
  }
  return {
    display,
    env,
    run(cmd, args) {
      const c = spawn(cmd, args, { env, stdio: 'ignore' });
      children.push(c);
      return c;
    },
    exec,
    async stop() {
      for (const c of children.reverse()) {
        if (c.exitCode === null && c.signalCode === null) {
          const gone = new Promise((r) => c.once('exit', r));
          c.kill('SIGTERM');
          await Promise.race([gone, sleep(2000)]);
        }
      }
    },
  };
}
