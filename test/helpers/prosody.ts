// A real XMPP server for tests: Debian's Prosody on loopback, a free port, a throw-away config and data folder,
// run unprivileged in the foreground. Accounts are written straight into its data folder (internal_plain
// storage), so no prosodyctl (which wants the system's config and user) is needed. No TLS here: clients use
// SCRAM-SHA-1, never a plain password, and plain connections are allowed only on loopback.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, removeDir, serverIdentity, serverTempDir, spawnServer, waitUntilListening, chownTree, type ServerProcess } from './server-process.js';

export interface XmppServer {
  host: string;
  port: number;
  domain: string;
  readonly output: string[];
  close(): Promise<void>;
}

export async function startProsody(opts: { domain?: string; users: Record<string, string> }): Promise<XmppServer> {
  const who = serverIdentity();
  const dir = serverTempDir('prosody', who);
  const port = await freePort();
  const domain = opts.domain ?? 'localhost';
  const data = path.join(dir, 'data');
  // Prosody's datastore encodes path parts: anything but letters/digits becomes %xx ("." → "%2e").
  const enc = (s: string) => s.replace(/[^a-zA-Z0-9]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
  const accounts = path.join(data, enc(domain), 'accounts');
  mkdirSync(accounts, { recursive: true });
  for (const [user, password] of Object.entries(opts.users)) {
    writeFileSync(path.join(accounts, `${enc(user)}.dat`), `return {\n\t["password"] = ${JSON.stringify(password)};\n};\n`);
  }
  const conf = path.join(dir, 'prosody.cfg.lua');
  writeFileSync(
    conf,
    `-- Written by the Panoptes test harness.
pidfile = "${dir}/prosody.pid"
data_path = "${data}"
plugin_paths = {}
log = { { levels = { min = "info" }, to = "console" } }
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = {}
component_ports = {}
http_ports = {}
https_ports = {}
modules_enabled = { "roster", "saslauth", "disco", "ping", "presence", "offline" }
modules_disabled = { "s2s", "tls", "http", "admin_shell", "posix" }
authentication = "internal_plain"
storage = "internal"
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = false
allow_registration = false
use_dns_resolver = false
VirtualHost "${domain}"
`,
  );
  chownTree(dir, who);
  const proc: ServerProcess = spawnServer('prosody', ['--config', conf, '-F'], who, dir);
  try {
    await waitUntilListening(port, proc, { greeting: /stream/, send: `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`, timeoutMs: 30_000 });
  } catch (err) {
    await proc.stop();
    removeDir(dir);
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    domain,
    output: proc.output,
    async close() {
      await proc.stop();
      removeDir(dir);
    },
  };
}
