// Rules across machines: `when.agent` names the machine an event came from (a forwarded event's origin, or the
// agent an agent.online/offline announcement is about) — one id, a glob, or "*" for any.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleEngine, replay, validateRules } from '../../rules/index.js';
import { defaultRules } from '../../engine/default-rules.js';
import { ev, rules, T0, MIN } from './helpers.js';

const notify = [{ notify: { title: '{{ title }}' } }];
const from = (agentId: string | null, title: string) => ev(T0, { title, ...(agentId ? { origin: { agentId, hostname: `${agentId}.lan` } } : {}) });

function fired(raw: unknown[], events: ReturnType<typeof ev>[]): string[] {
  const engine = new RuleEngine();
  engine.setRules(rules(raw));
  return events.flatMap((e) => engine.process(e, { now: T0, flags: {}, timeZone: 'UTC' }).firings.map((f) => `${f.ruleId}:${e.title}`));
}

test('when.agent: one machine, a glob, any; events made here have no agent', () => {
  const events = [from('pi', 'a'), from('pi-2', 'b'), from('nas', 'c'), from(null, 'local')];
  assert.deepEqual(fired([{ id: 'one', when: { agent: 'pi' }, then: notify }], events), ['one:a']);
  assert.deepEqual(fired([{ id: 'glob', when: { agent: 'pi*' }, then: notify }], events), ['glob:a', 'glob:b']);
  assert.deepEqual(fired([{ id: 'any', when: { agent: '*' }, then: notify }], events), ['any:a', 'any:b', 'any:c', 'any:local']);
  // Together with type and if: all must hold.
  assert.deepEqual(fired([{ id: 'both', when: { agent: 'pi*', type: 'feed.item' }, if: { field: 'title', equals: 'b' }, then: notify }], events), ['both:b']);
  // The announcements about a machine count as that machine's.
  const offline = ev(T0, { source: 'panoptes', type: 'agent.offline', title: 'pi off', fields: { agentId: 'pi' } });
  assert.deepEqual(fired([{ id: 'one', when: { agent: 'pi' }, then: notify }], [offline]), ['one:pi off']);
  // `agent` is a path too (grouping, conditions).
  assert.deepEqual(fired([{ id: 'cond', if: { field: 'agent', startsWith: 'n' }, then: notify }], events), ['cond:c']);
});

test('when.agent is validated like source and type', () => {
  assert.equal(validateRules([{ id: 'x', when: { agent: '' }, then: notify }]).errors.length, 1);
  assert.equal(validateRules([{ id: 'x', when: { machine: 'pi' }, then: notify }]).errors.length, 1);
  assert.equal(validateRules([{ id: 'x', when: { agent: 'pi' }, then: notify }]).errors.length, 0);
});

test('the default rule warns once per machine still offline after 10 minutes, not for one that came back', () => {
  const r = rules(defaultRules()).filter((x) => x.id === 'default-notify-agent-offline');
  assert.equal(r.length, 1);
  const off = (t: number, agentId: string) => ev(t, { source: 'panoptes', type: 'agent.offline', title: `Agent ${agentId} went offline`, body: `${agentId} is offline: connection lost.`, fields: { agentId } });
  const on = (t: number, agentId: string) => ev(t, { source: 'panoptes', type: 'agent.online', title: `Agent ${agentId} is online`, fields: { agentId } });
  const out = replay(r, [off(T0, 'pi'), off(T0 + MIN, 'nas'), on(T0 + 5 * MIN, 'nas')], { until: new Date(T0 + 60 * MIN).toISOString() });
  assert.equal(out.length, 1);
  assert.equal(out[0]!.at, new Date(T0 + 10 * MIN).toISOString());
  assert.deepEqual(out[0]!.actions, [{ notify: { title: 'Machine pi has been offline for 10 minutes', body: 'pi is offline: connection lost.', url: null, priority: 'high', sound: false } }]);
});
