/**
 * Liquid templates in actions. One shared, locked-down instance: unknown filters are errors (found at validation),
 * no file system (include/render/layout are refused), own properties only, and limits on parse/render work so a
 * template over a huge event cannot stall the engine.
 */
import { Liquid, type Template } from 'liquidjs';

const liquid = new Liquid({
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  templates: {},
  parseLimit: 100_000,
  renderLimit: 200,
  memoryLimit: 10_000_000,
  cache: false,
});
for (const tag of ['include', 'render', 'layout']) {
  liquid.registerTag(tag, {
    parse() {
      throw new Error(`the "${tag}" tag is not available in rule templates`);
    },
    *render() {
      return '';
    },
  });
}

const compiled = new Map<string, Template[]>();

/** Parse (and remember) a template; throws with liquidjs' message for unknown filters or bad syntax. */
export function compileTemplate(source: string): Template[] {
  let t = compiled.get(source);
  if (!t) {
    t = liquid.parse(source);
    compiled.set(source, t);
  }
  return t;
}

export function templateProblem(source: unknown): string | null {
  if (typeof source !== 'string') return 'a template is a string';
  if (source.length > 20_000) return 'template is longer than 20000 characters';
  try {
    compileTemplate(source);
    return null;
  } catch (err) {
    return `template: ${(err as Error).message}`;
  }
}

/** Render synchronously; a failing render yields '' and the error, which goes into the trace. */
export function renderTemplate(source: string, scope: Record<string, unknown>): { text: string; error?: string } {
  if (!source.includes('{')) return { text: source };
  try {
    return { text: String(liquid.renderSync(compileTemplate(source), scope)) };
  } catch (err) {
    return { text: '', error: (err as Error).message };
  }
}
