// `when.source` / `when.type` globs (and the forwarding filter's) match in time linear in the glob times the value,
// like every other user pattern (#16): a glob with many `*` compiled to a V8 regex backtracks polynomially — `*a` six
// times then `b` against 3,000 a's is about 3,000⁶ steps. Run in a child process so a regression shows as a timeout
// here rather than a wedged test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compileGlob } from '../../rules/glob.js';

test('globs match as people expect them to', () => {
  const cases: [string, string, boolean][] = [
    ['feed.*', 'feed.item', true],
    ['feed.*', 'mail.new', false],
    ['*.item', 'feed.item', true],
    ['rss:*:x', 'rss:a:b:x', true],
    ['rss:?', 'rss:a', true],
    ['rss:?', 'rss:ab', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYcZ', false],
    ['a*b*c', 'aXbYbZc', true],
    ['*', '', true],
    ['?*', '', false],
    ['**x', 'x', true],
    ['mail:*', 'mail:\nline', true],
    ['a.b', 'aXb', false],
    ['[x]', '[x]', true],
    ['web:*ä*', 'web:bär', true],
  ];
  for (const [glob, value, want] of cases) assert.equal(compileGlob(glob)(value), want, `${glob} on ${JSON.stringify(value)}`);
});

test('a glob with many stars against a long value that almost matches ends at once', () => {
  const script = `import('${new URL('../../rules/glob.js', import.meta.url).href}').then(({ compileGlob }) => {
    const m = compileGlob('*a*a*a*a*a*a*b');
    process.stdout.write(String(m('a'.repeat(3000))));
  });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, 'the match ran for 30 s and was killed: the glob backtracks');
  assert.equal(r.stdout, 'false');
});
