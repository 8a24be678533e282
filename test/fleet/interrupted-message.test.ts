// What Settings → Machines says of a deploy run cut short, by the step it was in: what may be left on the machine and
// what to do. (The real kills, over a real sshd, are test/deploy/interrupted.test.ts; these are the steps it does not
// reach.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStep, markInterrupted, newRun } from '../../engine/fleet/deploy-runs.js';

const where = { target: 'pi@garden', port: null, identity: null, knownHosts: null, sshConfig: null, dir: '.panoptes-agent' };

test('an undeploy killed while it checks the machine: nothing was removed yet, undeploy again', () => {
  const k = newRun('undeploy', 'pi', where);
  applyStep(k, 'check', 'checking pi@garden…');
  markInterrupted(k);
  assert.equal(k.run.state, 'interrupted');
  assert.equal(k.run.message, 'Panoptes stopped while this undeploy was checking pi@garden: nothing was removed there yet; undeploy again.');
});

test('an undeploy killed while it removes: may be half removed, with the command that finishes it', () => {
  const k = newRun('undeploy', 'pi', where);
  applyStep(k, 'check', 'checking pi@garden…');
  applyStep(k, 'remove', 'stopping the agent and removing it from pi@garden…');
  markInterrupted(k);
  assert.deepEqual(k.run.steps.map((s) => [s.step, s.state]), [['check', 'done'], ['remove', 'failed']]);
  assert.equal(k.run.message, 'Panoptes stopped while this undeploy was removing pi from pi@garden: pi may be half removed from .panoptes-agent there. Undeploy again, or run `panoptes undeploy pi@garden`.');
});
