// The copy of the build a deploy leaves in the remote's /tmp when it is cut short is removed by that agent's next
// deploy, upgrade or undeploy there — but only a copy meant for the same install folder. Two deploys of one agent id
// into two folders (two desktops deploying a "pi", or two test runs side by side) each copy the build and then unpack
// it; one's check step must not delete the other's copy between its copy and its install (the fresh clone of session
// 10 saw exactly that: "unpacking the build failed: tar: /tmp/panoptes-bundle-fleet1-….tgz: Cannot open").
//
// The remote half of deploy (engine/fleet/deploy/remote.js) runs here as ssh would run it on the remote: its text on
// the standard input of `node --input-type=module -`, after the line that sets its parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const REMOTE = fileURLToPath(new URL('../../engine/fleet/deploy/remote.js', import.meta.url));
const build = { version: '0.0.0', abi: process.versions.modules, node: process.versions.node, platform: process.platform, arch: process.arch };

/** The check step of a fresh deploy of `agentId` into `dir`, as the remote runs it; its result line. */
function check(agentId: string, dir: string): Record<string, unknown> {
  const params = { step: 'check', dir, agentId, upgrade: false, build, minNodeMajor: 20, service: 'pidfile' };
  const r = spawnSync(process.execPath, ['--input-type=module', '-'], { input: `globalThis.__panoptesDeploy = ${JSON.stringify(params)};\n` + readFileSync(REMOTE, 'utf8'), encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('PANOPTES-RESULT '));
  assert.ok(line, `the check step printed its result: ${r.stdout}${r.stderr}`);
  const out = JSON.parse(line.slice('PANOPTES-RESULT '.length)) as Record<string, unknown>;
  assert.equal(out.ok, true, String(out.message));
  return out;
}

test('a deploy sweeps the copy an earlier run into the same folder left, never the copy of a run into another folder', async (t) => {
  const work = tempDir(t, 'panoptes-sweep-');
  const [a, b] = [path.join(work, 'a'), path.join(work, 'b')];
  const made: string[] = [];
  t.after(() => made.forEach((f) => rmSync(f, { force: true })));
  const copy = (f: unknown) => {
    assert.equal(typeof f, 'string', 'the check step names where the build is to be copied');
    assert.match(f as string, /^\/tmp\/panoptes-bundle-sweep1-[0-9a-f-]+\.tgz$/);
    writeFileSync(f as string, 'a build');
    made.push(f as string);
    return f as string;
  };

  // A deploy of sweep1 into b has copied its build and is about to unpack it…
  const other = copy(check('sweep1', b).upload);
  // …while an earlier deploy of sweep1 into a was cut short after its copy.
  const left = copy(check('sweep1', a).upload);
  assert.notEqual(left, other);

  // Deploying sweep1 into a again takes away what the cut-short run left there, and only that.
  const again = check('sweep1', a);
  assert.equal(existsSync(left), false, 'the copy the cut-short run into the same folder left is removed');
  assert.equal(existsSync(other), true, 'the copy of the run into the other folder is still there to unpack');
  assert.notEqual(again.upload, left, 'each run copies to a name of its own');
});
