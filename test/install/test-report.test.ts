// `npm test` runs the test files side by side and makes one report of their events (scripts/test.mjs). Node's spec
// reporter pairs a test's end with the newest start it saw and asserts they match; a start from another file between
// a test's start and its end broke it mid-write, and the report stopped for good — a fresh clone's CI ended without
// its summary (once with exit code 0). These feed the reporter two files' events interleaved as their processes'
// output pieces can come, through the runner's grouping (scripts/test-report.mjs), and want every test in a report
// that ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

type TestEvent = { type: string; data: Record<string, unknown> };
type Grouper = ((event: TestEvent) => void) & { flush(): void };
const root = process.env.PANOPTES_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { wholeTests, sturdySpec } = (await import(path.join(root, 'scripts', 'test-report.mjs'))) as {
  wholeTests: (write: (e: TestEvent) => void) => Grouper;
  sturdySpec: () => import('node:stream').Transform;
};

const event = (type: string, name: string, nesting: number, file: string): TestEvent => ({
  type,
  data: { name, nesting, file, details: { duration_ms: 1 }, line: 1, column: 1 },
});

/**
 * The report of `feed`'s events, as the runner makes it (each file's events grouped, unless `grouped` is false);
 * rejects if the report has not ended within 10 s.
 */
async function report(feed: (a: Grouper, b: Grouper) => void, grouped = true): Promise<string> {
  const stream = new PassThrough({ objectMode: true });
  const out = stream.compose(sturdySpec());
  let text = '';
  out.on('data', (chunk: Buffer | string) => (text += chunk.toString()));
  const ended = new Promise<void>((resolve, reject) => {
    out.on('end', resolve);
    out.on('error', reject);
    setTimeout(() => reject(new Error(`the report stopped; it had printed:\n${text}`)), 10_000).unref();
  });
  const write = (e: TestEvent) => void stream.write(e);
  const group = (): Grouper => (grouped ? wholeTests(write) : Object.assign((e: TestEvent) => write(e), { flush() {} }));
  const a = group();
  const b = group();
  feed(a, b);
  a.flush();
  b.flush();
  stream.end();
  await ended;
  return text;
}

test("a file's test with subtests, and another file's test in the middle of it, are all reported and the report ends", async () => {
  const text = await report((a, b) => {
    a(event('test:start', 'suite of A', 0, 'A'));
    a(event('test:start', 'first of A', 1, 'A'));
    b(event('test:start', 'test of B', 0, 'B'));
    b(event('test:pass', 'test of B', 0, 'B'));
    a(event('test:pass', 'first of A', 1, 'A'));
    a(event('test:start', 'second of A', 1, 'A'));
    b(event('test:start', 'another of B', 0, 'B'));
    a(event('test:fail', 'second of A', 1, 'A'));
    b(event('test:pass', 'another of B', 0, 'B'));
    a(event('test:fail', 'suite of A', 0, 'A'));
  });
  for (const name of ['test of B', 'another of B', 'first of A', 'second of A']) assert.match(text, new RegExp(`${name} \\(`), `${name} is reported`);
  // A's suite stays together: its heading, then its two subtests, with none of B's tests among them.
  const lines = text.split('\n').map((l) => l.trim());
  const heading = lines.findIndex((l) => l.endsWith('suite of A'));
  assert.ok(heading >= 0, text);
  assert.match(lines[heading + 1]!, /first of A/);
  assert.match(lines[heading + 2]!, /second of A/);
  assert.match(text, /failing tests:/, 'the failures are listed at the end');
});

test("a failure inside a test whose end never came (its file was stopped) is still in the report, which ends", async () => {
  const text = await report((a, b) => {
    a(event('test:start', 'suite of A', 0, 'A'));
    a(event('test:start', 'broken step', 1, 'A'));
    a(event('test:fail', 'broken step', 1, 'A'));
    b(event('test:start', 'test of B', 0, 'B'));
    b(event('test:pass', 'test of B', 0, 'B'));
  });
  assert.match(text, /test of B \(/);
  assert.match(text.slice(text.indexOf('failing tests:')), /broken step/, 'the failure is listed');
});

test('should the reporter still meet a start between a test\'s start and end, it says so and the report goes on', async () => {
  const text = await report((a, b) => {
    a(event('test:start', 'test of A', 0, 'A'));
    b(event('test:start', 'test of B', 0, 'B'));
    a(event('test:fail', 'test of A', 0, 'A'));
    b(event('test:pass', 'test of B', 0, 'B'));
    b(event('test:start', 'later test of B', 0, 'B'));
    b(event('test:pass', 'later test of B', 0, 'B'));
  }, false);
  assert.match(text, /test of A failed \(A; the spec reporter could not place it/);
  assert.match(text, /later test of B \(/);
  assert.match(text.slice(text.indexOf('failing tests:')), /test of A/, 'the failure is still listed');
});
