// An engine loads the heavy libraries of a feature when that feature is first used, not at start: an idle agent
// that watches one webhook should not carry a browser driver, an IMAP client, an MQTT stack and three HTML parsers
// in memory (#22: idle RSS at or below Node-RED's). This records which packages the real agent process imports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startAgent } from '../helpers/agent-process.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

/** Loaded only by the features that need them (each is tens of MB with its dependencies, or pulls one in). */
const HEAVY = [
  'playwright-core', 'proxy-chain', 'imapflow', 'nodemailer', '@xmpp/client', 'aedes', 'mqtt', 'cheerio', 'parse5', 'undici', '@rowanmanning/feed-parser', 'jq-web',
  // Loaded by the first SNMP check, X request, IRC connection, HTML mail body or Mastodon post, version diff, filter line.
  'net-snmp', 'twitter-api-v2', 'irc-framework', 'html-to-text', 'htmlparser2', 'diff', 'cheerio-select', 'css-select', 'xpath',
  // Loaded by the first protocol connection (an open page, the CLI, `panoptes tail`).
  'ws',
];

function packageRecorder(dir: string, logFile: string, icuFile: string): string {
  // A module hook in the agent process: every package it resolves goes into logFile, one name per line.
  const hooks = path.join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
const seen = new Set();
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(r.url);
  if (m && !seen.has(m[1])) { seen.add(m[1]); appendFileSync(${JSON.stringify(logFile)}, m[1] + '\\n'); }
  return r;
}
`,
  );
  const register = path.join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n${icuRecorder(icuFile)}`);
  return register;
}

/**
 * In the agent's main thread: every use of ICU (Intl objects, locale-aware string and number methods) goes into
 * logFile with its caller. The first one maps several MB of ICU's data into the process (#22), so an idle agent
 * should reach none of them.
 */
function icuRecorder(logFile: string): string {
  return `import { appendFileSync as icuLog } from 'node:fs';
const record = (what) => icuLog(${JSON.stringify(logFile)}, what + ' ' + (new Error().stack.split('\\n')[3] ?? '?').trim() + '\\n');
const wrap = (proto, name, label) => { const orig = proto[name]; proto[name] = function (...a) { record(label); return orig.apply(this, a); }; };
for (const name of ['localeCompare', 'normalize', 'toLocaleLowerCase', 'toLocaleUpperCase']) wrap(String.prototype, name, 'String#' + name);
wrap(Number.prototype, 'toLocaleString', 'Number#toLocaleString');
for (const name of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) wrap(Date.prototype, name, 'Date#' + name);
for (const name of Object.getOwnPropertyNames(Intl)) {
  const C = Intl[name];
  if (typeof C === 'function') Intl[name] = new Proxy(C, { construct: (t, a, n) => (record('Intl.' + name), Reflect.construct(t, a, n)), apply: (t, self, a) => (record('Intl.' + name), Reflect.apply(t, self, a)) });
}
`;
}

test('an agent watching one webhook starts without loading the browser driver, mail, MQTT or HTML-parsing libraries, or ICU data', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'packages.txt');
  const icuFile = path.join(dir, 'icu.txt');
  const register = packageRecorder(dir, logFile, icuFile);
  mkdirSync(data);
  writeFileSync(
    path.join(data, 'config.json'),
    JSON.stringify({
      monitors: [{ id: 'webhook:in', type: 'webhook', name: 'In', config: { hookId: 'in' } }],
      rules: [{ id: 'r', when: { type: 'webhook.received' }, if: { field: 'title', matches: 'x', flags: 'i' }, then: [{ webhook: { url: 'http://127.0.0.1:9/x', body: '{}' } }] }],
    }),
  );
  const before = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${before ?? ''} --import ${register}`.trim();
  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent(data);
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
  t.after(() => agent!.stop());
  // Started: monitors, rules, outbox, the UI server. The recorder saw the packages the start needed.
  await waitFor(async () => (await fetch(`${agent.origin}/`)).ok || null, 'the UI page');
  assert.ok(existsSync(logFile), 'the recorder ran in the agent');
  const loaded = new Set(readFileSync(logFile, 'utf8').split('\n').filter(Boolean));
  assert.ok(loaded.has('better-sqlite3') && loaded.has('zod'), `the recorder sees the agent's packages: ${[...loaded].join(', ')}`);
  const heavy = HEAVY.filter((p) => loaded.has(p));
  assert.deepEqual(heavy, [], `loaded at start although nothing uses them yet: ${heavy.join(', ')}`);
  // Nor ICU's locale, time-zone or collation data: the start reaches no Intl object or locale-aware method.
  const icu = existsSync(icuFile) ? readFileSync(icuFile, 'utf8').split('\n').filter(Boolean) : [];
  assert.deepEqual(icu, [], `ICU used at start:\n${icu.join('\n')}`);
});
