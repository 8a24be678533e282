// OPML import/export through the real CLI command and config document in a temporary data folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from '../../cli/commands/opml.js';
import { parseOpml } from '../../monitors/rss/opml.js';
import { Engine } from '../../engine/engine.js';
import { silentLogger } from '../../core/log.js';
import { tempDir } from '../helpers/tmp.js';

function io(dataDir: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { io: { stdout, stderr, dataDir }, out: () => out, err: () => err };
}

const SAMPLE = `<?xml version="1.0"?>
<opml version="1.0"><head><title>Reader export</title></head><body>
  <outline text="Tech">
    <outline type="rss" text="Example &amp; Co" xmlUrl="https://example.com/feed.xml" htmlUrl="https://example.com/"/>
    <outline type="rss" text="Dup" xmlUrl="https://example.com/feed.xml"/>
  </outline>
  <outline type="rss" title="Other" xmlUrl="http://other.test/rss"/>
  <outline type="rss" title="Evil" xmlUrl="javascript:alert(1)"/>
</body></opml>`;

test('parseOpml: feeds from nested folders, duplicates and non-http URLs dropped', () => {
  const feeds = parseOpml(SAMPLE);
  assert.deepEqual(feeds.map((f) => [f.title, f.xmlUrl, f.category]), [
    ['Example & Co', 'https://example.com/feed.xml', 'Tech'],
    ['Other', 'http://other.test/rss', null],
  ]);
  assert.throws(() => parseOpml('<html><body>nope</body></html>'), /not an OPML file/);
});

test('opml import adds rss monitors once; export writes them back', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'panoptes-opml-'));
  try {
    const file = path.join(dir, 'in.opml');
    await writeFile(file, SAMPLE);
    const a = io(dir);
    assert.equal(await run(['import', file, '--interval', '30'], a.io), 0);
    assert.match(a.out(), /imported 2 feeds/);
    const b = io(dir);
    assert.equal(await run(['import', file], b.io), 0);
    assert.match(b.out(), /imported 0 feeds, 2 already watched/);
    const doc = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
    const rssMonitors = doc.monitors.filter((m: { type: string }) => m.type === 'rss');
    assert.equal(rssMonitors.length, 2);
    assert.equal(rssMonitors[0].config.intervalMinutes, 30);
    assert.match(rssMonitors[0].id, /^rss:example-co$/);

    const c = io(dir);
    assert.equal(await run(['export'], c.io), 0);
    assert.deepEqual(parseOpml(c.out()).map((f) => f.xmlUrl), ['https://example.com/feed.xml', 'http://other.test/rss']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('opml: bad usage and bad files exit 2 with a message', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'panoptes-opml-'));
  try {
    const a = io(dir);
    assert.equal(await run(['import'], a.io), 2);
    assert.match(a.err(), /usage/);
    const b = io(dir);
    assert.equal(await run(['export', '--bogus'], b.io), 2);
    assert.match(b.err(), /unknown option --bogus/);
    const c = io(dir);
    assert.equal(await run(['import', path.join(dir, 'missing.opml')], c.io), 2);
    assert.match(c.err(), /cannot read/);
    const d = io(dir);
    await writeFile(path.join(dir, 'x.opml'), SAMPLE);
    assert.equal(await run(['import', path.join(dir, 'x.opml'), '--interval', '1'], d.io), 2);
    assert.match(d.err(), /--interval/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the CLI and the protocol make the same monitors from one OPML file: same ids, names and configs', async (t) => {
  const opml = `<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
    <outline text="Tech"><outline type="rss" text="Alpha" xmlUrl="http://127.0.0.1:1/alpha.xml"/><outline type="rss" text="Alpha" xmlUrl="http://127.0.0.1:1/alpha-2.xml"/></outline>
    <outline type="rss" text="Watched" xmlUrl="http://127.0.0.1:1/watched.xml"/>
    <outline type="rss" xmlUrl="http://127.0.0.1:1/untitled.xml"/>
  </body></opml>`;
  // Both start from the same configuration: a feed already watched, and an id an outline's name would take.
  const seeded = async () => {
    const dir = tempDir(t);
    const engine = await Engine.open({ dataDir: dir, log: silentLogger, seedDefaultRules: false, startMonitors: false });
    await engine.request('monitors.add', { type: 'rss', name: 'Alpha', config: { url: 'http://127.0.0.1:1/other.xml' } });
    await engine.request('monitors.add', { type: 'rss', name: 'Already', config: { url: 'http://127.0.0.1:1/watched.xml' } });
    return { dir, engine };
  };
  const monitorsIn = async (dir: string) => (JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { monitors: unknown[] }).monitors;

  const cli = await seeded();
  await cli.engine.close();
  const file = path.join(cli.dir, 'in.opml');
  await writeFile(file, opml);
  const out = io(cli.dir);
  assert.equal(await run(['import', file, '--interval', '30'], out.io), 0, out.err());

  const protocol = await seeded();
  t.after(() => protocol.engine.close());
  const r = (await protocol.engine.request('monitors.importOpml', { opml, intervalMinutes: 30 })) as { added: string[] };

  const viaCli = await monitorsIn(cli.dir);
  assert.deepEqual(await monitorsIn(protocol.dir), viaCli);
  assert.deepEqual(r.added, ['rss:alpha-2', 'rss:alpha-3', 'rss:127-0-0-1-1']);
});
