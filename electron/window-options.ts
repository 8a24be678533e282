/**
 * The main window's options as a pure function, so the security-relevant flags are unit-tested rather than
 * trusted to a literal buried in main.ts.
 */
import type { BrowserWindowConstructorOptions, Rectangle } from 'electron';

export interface WindowOptionsInput {
  preloadPath: string;
  iconPath?: string;
  /** Last bounds the user left the window at (electron-store); ignored when unusable. */
  bounds?: Partial<Rectangle> | null;
  /** Start in the tray without showing the window (login start). */
  startHidden?: boolean;
  /** Work areas of the connected displays, to keep a remembered position on screen. */
  displays?: Rectangle[];
}

export const DEFAULT_SIZE = { width: 1100, height: 760 };
export const MIN_SIZE = { width: 560, height: 420 };

export function mainWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  const bounds = usableBounds(input.bounds, input.displays ?? []);
  return {
    ...bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: 'Panoptes',
    ...(input.iconPath ? { icon: input.iconPath } : {}),
    autoHideMenuBar: true,
    backgroundColor: '#111418',
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
    },
  };
}

/**
 * Remembered bounds are used only when they are sane numbers and at least partly on a connected display;
 * otherwise the window opens centred at the default size (a monitor was unplugged, the store was edited).
 */
export function usableBounds(saved: Partial<Rectangle> | null | undefined, displays: Rectangle[]): Partial<Rectangle> {
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
  if (!saved || !ok(saved.width) || !ok(saved.height)) return { ...DEFAULT_SIZE };
  const width = Math.max(MIN_SIZE.width, Math.round(saved.width));
  const height = Math.max(MIN_SIZE.height, Math.round(saved.height));
  if (!ok(saved.x) || !ok(saved.y)) return { width, height };
  const rect = { x: Math.round(saved.x), y: Math.round(saved.y), width, height };
  const visible = displays.some((d) => intersects(rect, d, 64));
  return visible ? rect : { width, height };
}

function intersects(a: Rectangle, b: Rectangle, minOverlap: number): boolean {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w >= minOverlap && h >= minOverlap;
}
