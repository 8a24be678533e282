import { z } from 'zod';
import type { MonitorDefinition } from '../../core/monitor.js';
import { detectFocusChange, type WindowSnapshot } from './focus.js';

const configSchema = z.object({
  pollSeconds: z
    .number()
    .min(0.2)
    .max(60)
    .default(2)
    .meta({ label: 'Check every (seconds)', help: 'How often the front window is looked up; an event is emitted only when it changes.' }),
  excludeApps: z
    .array(z.string().min(1).max(200))
    .max(500)
    .default([])
    .meta({ label: 'Never report these apps', help: 'App names (as shown in events, e.g. "keepassxc"); while one is in front nothing is recorded.' }),
  dropTitles: z
    .boolean()
    .default(false)
    .meta({ label: 'Drop window titles', help: 'Record only which app is in front, not what its window shows (titles often hold document names, mail subjects, URLs).' }),
  paused: z.boolean().default(false).meta({ label: 'Paused', help: 'Record nothing until turned off again.' }),
});

export type WindowConfig = z.infer<typeof configSchema>;

export type WindowReader = () => Promise<WindowSnapshot | null>;

/** get-windows (the maintained successor of active-win): xprop on Linux/X11, native code on macOS and Windows. */
export function getWindowsReader(): WindowReader {
  if (process.platform === 'linux' && !process.env.DISPLAY) {
    throw new Error('no X display (DISPLAY is not set): the front window is read through X11; Wayland does not tell other apps');
  }
  let load: Promise<typeof import('get-windows')> | null = null;
  return async () => {
    load ??= import('get-windows');
    const { activeWindow } = await load;
    // Screen-recording permission on macOS is only needed for titles; never prompt for it here.
    let w: Awaited<ReturnType<typeof activeWindow>>;
    try {
      w = await activeWindow({ accessibilityPermission: false, screenRecordingPermission: false });
    } catch (err) {
      // Old X clients (xmessage, some Xaw/Motif apps) do not say which process owns the window; get-windows
      // gives up on them. Treat such a window as "not known" rather than failing the monitor.
      if (/process ID/i.test((err as Error).message)) return null;
      throw err;
    }
    if (!w) return null;
    return {
      app: w.owner.name || '',
      title: w.title || null,
      pid: Number.isFinite(w.owner.processId) ? w.owner.processId : null,
      path: w.owner.path || null,
      url: 'url' in w && typeof w.url === 'string' ? w.url : null,
    };
  };
}

export function createWindowDefinition(readerFactory: () => WindowReader = getWindowsReader): MonitorDefinition<WindowConfig> {
  return {
    type: 'window',
    badge: 'WIN',
    category: 'This machine',
    title: 'Active window',
    description:
      'Which app and window are in front, emitted when it changes. Privacy: exclude apps, drop titles, or pause.',
    configSchema,
    minIntervalMs: 200,
    events: [
      {
        type: 'window.focus',
        description: 'Another window came to the front.',
        fields: {
          app: 'application name (X11 WM_CLASS, macOS/Windows app name)',
          title: 'window title (null when titles are dropped)',
          pid: 'process id',
          path: 'executable path where the OS gives it',
          url: 'the page URL for browsers where the OS gives it (macOS), else null',
        },
      },
    ],
    create(ctx) {
      const cfg = configSchema.parse(ctx.config);
      let lastKey: string | null = null;
      return {
        start() {
          if (cfg.paused) {
            ctx.health.ok('paused by its settings');
            return;
          }
          const read = readerFactory();
          ctx.every(Math.round(cfg.pollSeconds * 1000), async () => {
            const snap = await read();
            const { key, change } = detectFocusChange(lastKey, snap, cfg);
            lastKey = key;
            ctx.health.ok();
            if (!change) return;
            await ctx.emit({
              type: 'window.focus',
              title: change.title ? `${change.app}: ${change.title}` : change.app,
              body: '',
              url: change.url,
              fields: { ...change },
            });
          });
        },
        stop() {},
      };
    },
  };
}

export default createWindowDefinition();
