// A real IRC server for tests: Debian's ngIRCd on loopback, a free port, no DNS/ident/PAM lookups, run
// unprivileged. `stop()`/`start()` take it away and bring it back on the same port (a network outage). With `tls`
// it also listens for TLS connections on `tlsPort` (its [SSL] section).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, removeDir, serverIdentity, serverTempDir, spawnServer, waitUntilListening, chownTree, type ServerProcess } from './server-process.js';

export interface IrcServer {
  host: string;
  port: number;
  /** TLS port, only when started with `tls`. */
  tlsPort?: number;
  readonly log: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startNgircd(opts: { password?: string; tls?: { certFile: string; keyFile: string; dhFile?: string } } = {}): Promise<IrcServer> {
  const who = serverIdentity();
  const dir = serverTempDir('ngircd', who);
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  // Debian's ngIRCd uses GnuTLS, which generates Diffie-Hellman parameters at startup (slowly) unless given some.
  const ssl = opts.tls
    ? `[SSL]
CertFile = ${opts.tls.certFile}
KeyFile = ${opts.tls.keyFile}
${opts.tls.dhFile ? `DHFile = ${opts.tls.dhFile}` : ''}
Ports = ${tlsPort}
`
    : '';
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
${ssl}`,
  );
  chownTree(dir, who);
  const log: string[] = [];
  let proc: ServerProcess | null = null;
  const server: IrcServer = {
    host: '127.0.0.1',
    port,
    ...(tlsPort ? { tlsPort } : {}),
    log,
    async start() {
      if (proc) return;
      const p = spawnServer('ngircd', ['-n', '-f', conf], who, dir);
      proc = p;
      p.child.stdout!.on('data', (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean)));
      p.child.stderr!.on('data', (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean)));
      try {
        await waitUntilListening(port, p, { greeting: /NOTICE|:/, send: 'QUIT\r\n' });
        if (tlsPort) await waitUntilListening(tlsPort, p);
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
