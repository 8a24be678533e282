// Which browser renders a page for the rendered fetch. Headless (the agent, `monitor test`): a Chromium found on the
// machine, driven by playwright-core (render.ts). In the desktop app the engine runs in a utilityProcess beside
// Electron, which carries a browser of its own: the engine is started with `--render-from-shell` and renders in an
// offscreen Electron window through the shell (shell-renderer.ts here, electron/offscreen-renderer.ts there). Either
// way the engine judges the watched address, runs the checking proxy every connection of the browser goes through,
// and words every failure; a browser only loads, runs the steps and reads.
import { renderPage, type RenderOptions, type Rendered } from './render.js';

export interface PageRenderer {
  /** Load `url` under the address rule, run the steps, and return its HTML, a screenshot and the final URL; a RenderError says why not. */
  render(url: string, options: RenderOptions): Promise<Rendered>;
}

/** playwright-core and a Chromium on the machine (the configured browser path, PANOPTES_CHROMIUM, the usual places). */
export const chromiumRenderer: PageRenderer = { render: renderPage };

let installed: PageRenderer | null = null;

/** The engine's entry says which browser it has (the desktop app's window); null puts Chromium back. */
export function usePageRenderer(renderer: PageRenderer | null): void {
  installed = renderer;
}

/** A browser path set on the watch asks for that Chromium; otherwise the engine's own renderer, else Chromium. */
export function pageRendererFor(browserPath?: string): PageRenderer {
  return browserPath ? chromiumRenderer : (installed ?? chromiumRenderer);
}
