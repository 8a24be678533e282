// A real IRC server for tests: Debian's ngIRCd on loopback, a free port, no DNS/ident/PAM lookups, run
// unprivileged. `stop()`/`start()` take it away and bring it back on the same port (a network outage).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, removeDir, serverIdentity, serverTempDir, spawnServer, waitUntilListening, chownTree, type ServerProcess } from './server-process.js';

export interface IrcServer {
  host: string;
  port: number;
  readonly log: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startNgircd(opts: { password?: string } = {}): Promise<IrcServer> {
  const who = serverIdentity();
  const dir = serverTempDir('ngircd', who);
  const port = await freePort();
  const conf = path.join(dir, 'ngircd.conf');
  writeFileSync(
    conf,
    `# Written by the Panoptes test harness.
[Global]
Name = irc.panoptes.test
Info = Panoptes test server
AdminInfo1 = test
AdminEMail = test@localhost
Listen = 127.0.0.1
Ports = ${port}
PidFile = ${dir}/ngircd.pid
MotdPhrase = Panoptes test server
${opts.password ? `Password = ${opts.password}` : ''}
[Limits]
MaxNickLength = 30
[Options]
DNS = no
Ident = no
PAM = no
`,
  );
  chownTree(dir, who);
  const log: string[] = [];
  let proc: ServerProcess | null = null;
  const server: IrcServer = {
    host: '127.0.0.1',
    port,
    log,
    async start() {
      if (proc) return;
      const p = spawnServer('ngircd', ['-n', '-f', conf], who, dir);
      proc = p;
      p.child.stdout!.on('data', (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean)));
      p.child.stderr!.on('data', (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean)));
      try {
        await waitUntilListening(port, p, { greeting: /NOTICE|:/, send: 'QUIT\r\n' });
      } catch (err) {
        await p.stop();
        proc = null;
        throw err;
      }
    },
    async stop() {
      const p = proc;
      proc = null;
      await p?.stop();
    },
    async close() {
      await server.stop();
      removeDir(dir);
    },
  };
  await server.start();
  return server;
}
