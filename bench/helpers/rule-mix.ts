/**
 * The generated events and the mixed rule set the rules benchmark runs on (shared with profiling scripts, so a
 * profile looks at exactly what the table measures). Deterministic: the same seed gives the same data.
 */
import type { PanoptesEvent } from '../../core/event.js';

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) & 0x7fffffff) / 0x7fffffff);
const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;
/** Zipf-like: small indexes are common, the tail is long (as with real feeds, repos and words). */
const zipf = <T>(a: T[]): T => a[Math.min(a.length - 1, Math.floor(a.length * Math.pow(rnd(), 3)))]!;

export const SOURCES = [
  ...Array.from({ length: 30 }, (_, i) => `rss:feed-${i}`),
  ...Array.from({ length: 8 }, (_, i) => `mail:account-${i}`),
  ...Array.from({ length: 6 }, (_, i) => `irc:net-${i}`),
  ...Array.from({ length: 6 }, (_, i) => `web:page-${i}`),
];
export const TYPES = ['feed.item', 'mail.received', 'chat.message', 'chat.mention', 'web.changed', 'ci.build_started', 'ci.build_finished', 'heartbeat.ok', 'weather.reading', 'idle.start'];
// Words of 3–10 letters drawn with English letter frequencies, so substrings are as diverse as in real titles.
const LETTERS = 'eeeeeeeeeeeetttttttttaaaaaaaaooooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrddddlllluuucccmmmwwffggyyppbbvkjxqz';
const WORDS = Array.from({ length: 50_000 }, () => Array.from({ length: 3 + Math.floor(rnd() * 8) }, () => pick([...LETTERS])).join(''));
/** What people watch for: names and terms of five letters or more, from anywhere in the vocabulary. */
const WATCH_WORDS = WORDS.filter((w) => w.length >= 5);
const REPOS = Array.from({ length: 20_000 }, (_, i) => `org${i % 97}/project-${i}`);

export function makeEvent(i: number, t: number): PanoptesEvent {
  const source = pick(SOURCES);
  const type = source.startsWith('rss:') ? 'feed.item' : source.startsWith('mail:') ? 'mail.received' : pick(TYPES);
  const title = Array.from({ length: 6 + Math.floor(rnd() * 6) }, () => zipf(WORDS)).join(' ');
  return {
    id: `e${i}`,
    ts: new Date(t).toISOString(),
    receivedAt: new Date(t).toISOString(),
    source,
    type,
    title: title[0]!.toUpperCase() + title.slice(1),
    body: '',
    url: `https://example.test/${i}`,
    fields: { repo: zipf(REPOS), score: Math.round(-Math.log(1 - rnd() * 0.999) * 40), stars: Math.floor(rnd() * 1000), lang: pick(['go', 'rust', 'ts', 'py']) },
    tags: rnd() < 0.05 ? ['spam'] : [],
  };
}

export function makeRule(i: number): Record<string, unknown> {
  const notify = [{ notify: { title: '{{ title }}', priority: 'normal' } }];
  const r = rnd();
  const id = `rule-${i}`;
  if (r < 0.3) return { id, when: { source: pick(SOURCES) }, if: { field: 'fields.repo', equals: pick(REPOS) }, then: notify };
  if (r < 0.45) return { id, when: { type: pick(TYPES) }, if: { field: 'fields.repo', in: [pick(REPOS), pick(REPOS), pick(REPOS)] }, then: notify };
  if (r < 0.6) return { id, when: { type: pick(TYPES) }, if: { all: [{ field: 'fields.score', gt: 250 + Math.floor(rnd() * 400) }, { field: 'fields.lang', equals: pick(['go', 'rust', 'ts', 'py']) }] }, then: notify };
  if (r < 0.75) return { id, when: { source: 'rss:*' }, if: { field: 'title', matches: `\\b${pick(WATCH_WORDS)}\\b`, flags: 'i' }, then: notify };
  if (r < 0.85) {
    return {
      id,
      if: { all: [{ any: [{ field: 'fields.repo', equals: pick(REPOS) }, { field: 'title', contains: pick(WATCH_WORDS) }] }, { not: { field: 'tags', equals: 'spam' } }] },
      then: notify,
    };
  }
  if (r < 0.95) return { id, when: { source: pick(SOURCES) }, if: { field: 'fields.repo', equals: pick(REPOS) }, pattern: { count: 3, within: '10m', by: 'source' }, then: notify };
  return { id, when: { source: pick(SOURCES), type: 'heartbeat.ok' }, pattern: { absent: true, within: '1h' }, then: notify };
}

