/** Turning a rule's `then` list into concrete actions by rendering every template against the firing's scope. */
import { renderInto } from './templates.js';
import type { Action, ActionKinds, BuiltinAction } from './schema.js';
import type { RenderedAction } from './types.js';

type Render = (tpl: string, where: string) => string;

const BUILTIN_KINDS = new Set(['notify', 'flag', 'tag', 'webhook', 'command', 'stop']);

export function renderActions(actions: Action[], scope: Record<string, unknown>, errors: string[], kinds: ActionKinds): RenderedAction[] {
  let i = 0;
  // `where` names the template inside action i; the full JSON path is only built when a render fails.
  const r: Render = (tpl, where) => renderInto(tpl, scope, errors, i, where);
  // Sized up front: the list is kept in the trace.
  const out: RenderedAction[] = new Array(actions.length);
  for (; i < actions.length; i++) out[i] = renderAction(actions[i]!, r, kinds);
  return out;
}

function renderAction(action: Action, r: Render, kinds: ActionKinds): RenderedAction {
  if (kinds.size) {
    // A kind a monitor type contributes renders as its declaration says; its templates are named `<kind>.<field>`.
    for (const kind in action) {
      const spec = BUILTIN_KINDS.has(kind) ? undefined : kinds.get(kind);
      if (spec) return { [kind]: spec.render((action as Record<string, Record<string, unknown>>)[kind]!, (tpl, field) => r(tpl, `${kind}.${field}`)) };
    }
  }
  const a = action as BuiltinAction;
  if ('notify' in a) {
    const n = a.notify;
    const url = n.url !== undefined ? r(n.url, 'notify.url').trim() : '';
    return {
      notify: {
        title: r(n.title, 'notify.title'),
        body: n.body !== undefined ? r(n.body, 'notify.body') : '',
        url: url || null,
        priority: n.priority ?? 'normal',
        sound: n.sound ?? false,
        ...(n.own ? { own: true } : {}),
      },
    };
  }
  if ('flag' in a) return { flag: { ...a.flag } };
  if ('tag' in a) return { tag: { add: [...a.tag.add] } };
  if ('webhook' in a) {
    const w = a.webhook;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(w.headers ?? {})) headers[k] = r(v, `webhook.headers.${k}`);
    return {
      webhook: {
        url: r(w.url, 'webhook.url'),
        method: w.method ?? 'POST',
        headers,
        body: w.body !== undefined ? r(w.body, 'webhook.body') : null,
        ...(w.timeoutMs !== undefined ? { timeoutMs: w.timeoutMs } : {}),
      },
    };
  }
  if ('command' in a) {
    const c = a.command;
    return {
      command: {
        argv: c.argv.map((x, j) => r(x, `command.argv[${j}]`)),
        ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}),
      },
    };
  }
  return { stop: true };
}
