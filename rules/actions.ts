/** Turning a rule's `then` list into concrete actions by rendering every template against the firing's scope. */
import { renderTemplate } from './templates.js';
import type { Action } from './schema.js';
import type { RenderedAction } from './types.js';

export function renderActions(actions: Action[], scope: Record<string, unknown>, errors: string[]): RenderedAction[] {
  const r = (tpl: string, where: string) => {
    const out = renderTemplate(tpl, scope);
    if (out.error) errors.push(`${where}: ${out.error}`);
    return out.text;
  };
  return actions.map((a, i): RenderedAction => {
    const at = `$.then[${i}]`;
    if ('notify' in a) {
      const n = a.notify;
      const url = n.url !== undefined ? r(n.url, `${at}.notify.url`).trim() : '';
      return {
        notify: {
          title: r(n.title, `${at}.notify.title`),
          body: n.body !== undefined ? r(n.body, `${at}.notify.body`) : '',
          url: url || null,
          priority: n.priority ?? 'normal',
          sound: n.sound ?? false,
        },
      };
    }
    if ('flag' in a) return { flag: { ...a.flag } };
    if ('tag' in a) return { tag: { add: [...a.tag.add] } };
    if ('webhook' in a) {
      const w = a.webhook;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(w.headers ?? {})) headers[k] = r(v, `${at}.webhook.headers.${k}`);
      return {
        webhook: {
          url: r(w.url, `${at}.webhook.url`),
          method: w.method ?? 'POST',
          headers,
          body: w.body !== undefined ? r(w.body, `${at}.webhook.body`) : null,
          ...(w.timeoutMs !== undefined ? { timeoutMs: w.timeoutMs } : {}),
        },
      };
    }
    if ('command' in a) {
      const c = a.command;
      return {
        command: {
          argv: c.argv.map((x, j) => r(x, `${at}.command.argv[${j}]`)),
          ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}),
        },
      };
    }
    if ('chat' in a) {
      const c = a.chat;
      return { chat: { network: c.network, target: r(c.target, `${at}.chat.target`), text: r(c.text, `${at}.chat.text`) } };
    }
    if ('email' in a) {
      const m = a.email;
      return {
        email: {
          to: r(m.to, `${at}.email.to`),
          subject: r(m.subject, `${at}.email.subject`),
          body: r(m.body, `${at}.email.body`),
          ...(m.account !== undefined ? { account: m.account } : {}),
        },
      };
    }
    if ('mqtt' in a) {
      const m = a.mqtt;
      return { mqtt: { topic: r(m.topic, `${at}.mqtt.topic`), payload: r(m.payload, `${at}.mqtt.payload`), retain: m.retain ?? false, qos: m.qos ?? 0 } };
    }
    return { stop: true };
  });
}
