// A template inside a shell's -c script is a command injection waiting for a title with a quote in it: the rule is
// valid (a user may mean it), but validation and saving warn at the script and offer the argv form, which passes
// the event's text as its own argument ("$1") where the shell never parses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';

const rule = (id: string, argv: string[]) => ({ id, when: { source: 'webhook:*' }, then: [{ command: { argv } }] });

test('a template in a shell -c script is warned about at the script, with the argv form offered; the argv form is not', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, { rules: [] });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());

  for (const argv of [
    ['/bin/sh', '-c', 'echo "{{fields.s}}"'],
    ['bash', '-lc', 'notify-send {{ title }}'],
    ['/usr/bin/env', 'zsh', '-c', 'echo {{body}}'],
    // A Liquid tag writes the event's text into the script as well as {{ }} does.
    ['/bin/sh', '-c', 'logger {% echo title %}'],
  ]) {
    const v = await client.call('rules.validate', { rule: rule('shell', argv) }, 5_000);
    assert.equal(v.ok, true, 'still a valid rule');
    const at = argv.findIndex((a) => a.includes('{{') || a.includes('{%'));
    assert.equal(v.warnings?.length, 1, `one warning for ${JSON.stringify(argv)}: ${JSON.stringify(v)}`);
    assert.equal(v.warnings[0].path, `$.then[0].command.argv[${at}]`);
    assert.match(v.warnings[0].message, /shell/);
    assert.match(v.warnings[0].message, /"\$1"/, 'the argv form is offered');
  }
  const saved = await client.call('rules.save', { rule: rule('shell', ['/bin/sh', '-c', 'echo "{{fields.s}}"']) }, 5_000);
  assert.equal(saved.warnings?.length, 1, 'saving says it too');

  for (const argv of [
    ['/bin/sh', '-c', 'echo "$1"', 'sh', '{{fields.s}}'],
    ['/usr/bin/notify-send', '{{ title }}'],
    ['/bin/sh', '-c', 'date >> /tmp/log'],
  ]) {
    const v = await client.call('rules.validate', { rule: rule('argv', argv) }, 5_000);
    assert.deepEqual([v.ok, v.warnings ?? []], [true, []], JSON.stringify(argv));
  }
});
