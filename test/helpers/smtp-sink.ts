// A real SMTP server that keeps what it receives: Debian's python3-aiosmtpd with its Mailbox handler, writing
// every accepted message into a Maildir under a temp folder. Loopback, free port, unprivileged. With `tls` it
// speaks STARTTLS (required before any mail, aiosmtpd's --tlscert) or SMTPS (TLS from the first byte, --smtpscert).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, removeDir, serverIdentity, serverTempDir, spawnServer, waitUntilListening, type ServerProcess } from './server-process.js';

export interface SmtpSink {
  host: string;
  port: number;
  /** Raw messages received so far, oldest first. */
  messages(): string[];
  waitForMessages(count: number, timeoutMs?: number): Promise<string[]>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  tls?: { certFile: string; keyFile: string; mode: 'starttls' | 'smtps' };
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const who = serverIdentity();
  const dir = serverTempDir('smtp', who);
  const maildir = path.join(dir, 'mail');
  const port = await freePort();
  const tls = opts.tls;
  const tlsArgs = !tls ? [] : tls.mode === 'smtps' ? ['--smtpscert', tls.certFile, '--smtpskey', tls.keyFile] : ['--tlscert', tls.certFile, '--tlskey', tls.keyFile];
  // The Debian interpreter, not whatever `python3` is first on PATH: that is where the package lives.
  const proc: ServerProcess = spawnServer('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, ...tlsArgs, '-c', 'aiosmtpd.handlers.Mailbox', maildir], who, dir);
  // An SMTPS server says nothing until the TLS handshake: there, a connection that is accepted is enough.
  await waitUntilListening(port, proc, tls?.mode === 'smtps' ? {} : { greeting: /^220 / });
  const messages = () => {
    const out: { name: string; text: string }[] = [];
    for (const sub of ['new', 'cur']) {
      let names: string[] = [];
      try {
        names = readdirSync(path.join(maildir, sub));
      } catch {
        continue;
      }
      for (const name of names) out.push({ name, text: readFileSync(path.join(maildir, sub, name), 'utf8') });
    }
    // Maildir names start with the delivery time, so sorting by name is arrival order.
    return out.sort((a, b) => a.name.localeCompare(b.name)).map((m) => m.text);
  };
  return {
    host: '127.0.0.1',
    port,
    messages,
    async waitForMessages(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = messages();
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`SMTP sink got ${got.length} of ${count} messages:\n${proc.output.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await proc.stop();
      removeDir(dir);
    },
  };
}
