// Debian's snmpd on a loopback UDP port with its own configuration: community "public" (read-only, from
// 127.0.0.1 only), an SNMPv3 user with SHA authentication and AES privacy, and a system location/contact to read.
import { writeFileSync, mkdirSync } from 'node:fs';
import dgram from 'node:dgram';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { chownTree, removeDir, serverIdentity, serverTempDir, spawnServer } from './server-process.js';

export interface Snmpd {
  port: number;
  v3: { user: string; authPassword: string; privPassword: string };
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
export { freeUdpPort };

/** One snmpget, to know the agent answers (snmpd has no TCP port to wait on). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => execFile('/usr/bin/snmpget', ['-v2c', '-c', 'public', '-t', '0.5', '-r', '0', '-On', `127.0.0.1:${port}`, '1.3.6.1.2.1.1.6.0'], (err) => resolve(!err)));
}

export async function startSnmpd(): Promise<Snmpd> {
  const who = serverIdentity();
  const dir = serverTempDir('snmpd', who);
  const v3 = { user: 'panoptes', authPassword: 'auth-pass-123', privPassword: 'priv-pass-123' };
  mkdirSync(path.join(dir, 'persist'));
  writeFileSync(
    path.join(dir, 'snmpd.conf'),
    [
      'rocommunity public 127.0.0.1',
      `createUser ${v3.user} SHA "${v3.authPassword}" AES "${v3.privPassword}"`,
      `rouser ${v3.user} priv`,
      'sysLocation Panoptes test lab',
      'sysContact ops@example.test',
      '',
    ].join('\n'),
  );
  chownTree(dir, who);
  const port = await freeUdpPort();
  process.env.SNMP_PERSISTENT_DIR = path.join(dir, 'persist');
  const proc = spawnServer('/usr/sbin/snmpd', ['-f', '-Lo', '-C', '-c', path.join(dir, 'snmpd.conf'), '-M', '/usr/share/snmp/mibs', `udp:127.0.0.1:${port}`], who);
  const deadline = Date.now() + 15_000;
  while (!(await answers(port))) {
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`snmpd did not answer:\n${proc.output.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    v3,
    async stop() {
      await proc.stop();
      removeDir(dir);
    },
  };
}

/** Send a v2c trap with Debian's snmptrap, as a device would. */
export function sendTrap(port: number, community: string, trapOid: string, varbinds: [string, 's' | 'i', string][]): Promise<void> {
  const args = ['-v2c', '-c', community, `127.0.0.1:${port}`, '', trapOid, ...varbinds.flat()];
  return new Promise((resolve, reject) => execFile('/usr/bin/snmptrap', args, (err, _o, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve())));
}
