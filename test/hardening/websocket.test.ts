// A broken frame on one WebSocket closes that connection with a status and a reason; it never ends the agent, and
// the next client is served. The largest legitimate request the UI makes (reordering every rule) fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { startAgent, type RunningAgent } from '../helpers/agent-process.js';
import { connectProtocol } from '../helpers/protocol-client.js';
import { tempDir } from '../helpers/tmp.js';
import { writeConfig } from '../forwarding/helpers.js';

/** One WebSocket frame as a client would write it (masked unless told otherwise). */
function frame(opcode: number, payload: Buffer, opts: { mask?: boolean; declaredLength?: number } = {}): Buffer {
  const mask = opts.mask ?? true;
  const len = opts.declaredLength ?? payload.length;
  const head: number[] = [0x80 | opcode];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65_536) head.push(m | 126, len >> 8, len & 255);
  else {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload.map((x, i) => x ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** Open a raw, authorised WebSocket to the agent, write `bytes`, and read the close frame the server sends back. */
function rawExchange(agent: RunningAgent, bytes: Buffer): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(agent.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`no close frame; got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`))), 20_000);
    s.on('error', () => {});
    s.on('close', () => reject(new Error(`socket closed without a close frame; got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`)));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 101/);
        buf = buf.subarray(end + 4);
        upgraded = true;
        s.write(bytes);
      }
      // Frames the server sent before its close (a push to every connection, such as the forwarding status, may come
      // first) are passed over; the close frame is the one read.
      while (buf.length >= 2) {
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) [len, at] = buf.length >= 4 ? [buf.readUInt16BE(2), 4] : [Infinity, 4];
        else if (len === 127) [len, at] = buf.length >= 10 ? [Number(buf.readBigUInt64BE(2)), 10] : [Infinity, 10];
        if (buf.length < at + len) return;
        if (opcode === 0x8) {
          clearTimeout(timer);
          resolve({ code: len >= 2 ? buf.readUInt16BE(at) : 1005, reason: buf.subarray(at + 2, at + len).toString() });
          s.destroy();
          return;
        }
        buf = buf.subarray(at + len);
      }
    });
    s.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${agent.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: panoptes.v1\r\nAuthorization: Bearer ${agent.token}\r\n\r\n`,
    );
  });
}

test('WebSocket protocol errors close that connection with a reason and the agent keeps serving', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  writeConfig(dir, {});
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const cases: [string, Buffer, number][] = [
    ['a message over 4 MiB', frame(0x1, Buffer.alloc(0), { declaredLength: 4 * 1024 * 1024 + 1 }), 1009],
    ['an unmasked client frame', frame(0x1, Buffer.from('{"kind":"req"}'), { mask: false }), 1002],
    ['invalid UTF-8 in a text message', frame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 1007],
    ['a reserved opcode', frame(0x3, Buffer.from('x')), 1002],
  ];
  for (const [what, bytes, code] of cases) {
    const closed = await rawExchange(agent, bytes).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
    assert.equal(closed.code, code, `${what}: close code`);
    assert.ok(closed.reason.length > 0, `${what}: the close says why`);
    assert.equal(agent.child.exitCode, null, `${what}: the agent is still running`);
    const client = await connectProtocol(agent);
    assert.equal((await client.call('hello', {}, 15_000)).version, 1, `${what}: the next client is served`);
    client.close();
  }
});

test('reordering 14,000 rules sends their ids and works', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const rules = Array.from({ length: 14_000 }, (_, i) => ({
    id: `rule-${i}`,
    name: `Watch word ${i} in the feed titles and tell me about it`,
    when: { source: 'rss:*' },
    if: { all: [{ field: 'title', contains: `word${i}` }, { field: 'body', matches: `\\bterm${i}\\b`, flags: 'i' }] },
    then: [{ notify: { title: '{{ title }}', body: 'Rule ' + i + ' matched {{ fields.feedTitle }}: {{ body | truncate: 200 }}', url: '{{ url }}', priority: 'normal' } }],
  }));
  writeConfig(dir, { rules });
  const agent = await startAgent(dir);
  t.after(() => agent.stop());
  const client = await connectProtocol(agent);
  t.after(() => client.close());
  const before = await client.call('rules.list', {}, 30_000);
  assert.equal(before.rules.length, 14_000);
  assert.ok(JSON.stringify(before.rules).length > 4 * 1024 * 1024, 'the whole list is over the 4 MiB message limit');
  const ids = before.rules.map((r: { id: string }) => r.id);
  const moved = [ids[1], ids[0], ...ids.slice(2)];
  assert.deepEqual(await client.call('rules.reorder', { ids: moved }, 30_000), { count: 14_000 });
  const after = await client.call('rules.list', {}, 30_000);
  assert.deepEqual(after.rules.slice(0, 3).map((r: { id: string }) => r.id), ['rule-1', 'rule-0', 'rule-2']);
  assert.deepEqual(after.rules[0], before.rules[1], 'rules move whole');
  // A stale list (a rule added or removed meanwhile) is refused rather than dropping or duplicating rules.
  await assert.rejects(client.call('rules.reorder', { ids: moved.slice(1) }), /rules changed/);
});
