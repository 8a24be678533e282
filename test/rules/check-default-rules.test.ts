import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleEngine } from '../../rules/index.js';
import { defaultRules } from '../../engine/default-rules.js';
import { ev, rules, T0 } from './helpers.js';

/** What the shipped defaults would notify, and how urgently, for one event. */
function notifications(over: Parameters<typeof ev>[1]) {
  const engine = new RuleEngine();
  engine.setRules(rules(defaultRules()));
  const { firings } = engine.process(ev(T0, over), { now: T0, flags: {}, timeZone: 'UTC' });
  return firings.flatMap((f) => f.actions.map((a) => (a as { notify?: { title: string; priority: string } }).notify)).filter(Boolean).map((n) => `${n!.priority}: ${n!.title}`);
}

test('the default rules notify on any check going down (high) and coming back (normal), on missed heartbeats, not on samples', () => {
  assert.deepEqual(notifications({ source: 'http:shop', type: 'check.down', title: 'Shop down: HTTP 503', body: 'GET https://shop.example' }), ['high: Shop down: HTTP 503']);
  assert.deepEqual(notifications({ source: 'ping:router', type: 'check.up', title: 'Router up again after 5m' }), ['normal: Router up again after 5m']);
  assert.deepEqual(notifications({ source: 'http:shop', type: 'check.sample', title: 'Shop: up, 12 ms', tags: ['ambient'] }), []);
  assert.deepEqual(notifications({ source: 'heartbeat:backup', type: 'heartbeat.missed', title: 'Backup: no heartbeat for 2h' }), ['high: Backup: no heartbeat for 2h']);
  assert.deepEqual(notifications({ source: 'heartbeat:backup', type: 'heartbeat.recovered', title: 'Backup: heartbeat back after 3h' }), ['normal: Backup: heartbeat back after 3h']);
});

test('certificates: a month or two weeks ahead is a low reminder, a week or less and an invalid one are high', () => {
  const expiring = (days: number) => notifications({ source: 'certificate:shop', type: 'cert.expiring', title: `Certificate of shop.example expires in ${days} days`, fields: { daysLeft: days } });
  assert.deepEqual(expiring(29), ['low: Certificate of shop.example expires in 29 days']);
  assert.deepEqual(expiring(13), ['low: Certificate of shop.example expires in 13 days']);
  assert.deepEqual(expiring(6.5), ['high: Certificate of shop.example expires in 6.5 days']);
  assert.deepEqual(notifications({ source: 'certificate:shop', type: 'cert.invalid', title: 'Certificate of shop.example: expired' }), ['high: Certificate of shop.example: expired']);
});
