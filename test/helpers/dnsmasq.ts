// Debian's dnsmasq as a small DNS server on a loopback port, with its own records and nothing from this machine:
// A records from a hosts file (rewritten and re-read on SIGHUP to change an answer), a CNAME, an MX, a TXT, and
// the whole `.test` zone local, so an unknown name is NXDOMAIN rather than a forwarded query.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ports.js';
import { chownTree, removeDir, serverIdentity, serverTempDir, spawnServer, waitUntilListening } from './server-process.js';

export interface Dnsmasq {
  /** "127.0.0.1:<port>", what a resolver setting takes. */
  server: string;
  port: number;
  /** Replace the A records (lines "address name") and make dnsmasq re-read them. */
  setHosts(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startDnsmasq(hosts: string[], extra: string[] = []): Promise<Dnsmasq> {
  const who = serverIdentity();
  const dir = serverTempDir('dnsmasq', who);
  const hostsFile = path.join(dir, 'hosts');
  writeFileSync(hostsFile, hosts.join('\n') + '\n');
  chownTree(dir, who);
  const port = await freePort();
  const proc = spawnServer('/usr/sbin/dnsmasq', [
    '--keep-in-foreground', '--log-facility=-', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--pid-file=', '--user=', '--local=/test/', `--addn-hosts=${hostsFile}`,
    ...extra,
  ], who);
  await waitUntilListening(port, proc);
  return {
    server: `127.0.0.1:${port}`,
    port,
    async setHosts(lines) {
      writeFileSync(hostsFile, lines.join('\n') + '\n');
      const seen = proc.output.length;
      proc.child.kill('SIGHUP');
      const deadline = Date.now() + 5_000;
      while (!proc.output.slice(seen).some((l) => l.includes(`read ${hostsFile}`))) {
        if (Date.now() > deadline) throw new Error(`dnsmasq did not re-read its hosts:\n${proc.output.slice(-10).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await proc.stop();
      removeDir(dir);
    },
  };
}
