// A real SMTP server that keeps what it receives: Debian's python3-aiosmtpd with its Mailbox handler, writing
// every accepted message into a Maildir under a temp folder. Loopback, free port, unprivileged. With `tls` it
// speaks STARTTLS (required before any mail, aiosmtpd's --tlscert) or SMTPS (TLS from the first byte, --smtpscert).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, removeDir, serverIdentity, serverTempDir, spawnServer, waitUntilListening, type ServerProcess } from './server-process.js';

export interface SmtpSink {
  host: string;
  port: number;
  /** What the server printed (the XOAUTH2 sink says which logins it took). */
  output(): string[];
  /** Raw messages received so far, oldest first. */
  messages(): string[];
  waitForMessages(count: number, timeoutMs?: number): Promise<string[]>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  tls?: { certFile: string; keyFile: string; mode: 'starttls' | 'smtps' };
  /**
   * Require SASL XOAUTH2 before any mail (plain, on loopback): the token is checked at this RFC 7662 introspection
   * endpoint and must be active for the user named in the XOAUTH2 string, as Gmail and Exchange Online require.
   */
  xoauth2?: { introspectionUrl: string };
}

/** aiosmtpd with its Maildir handler and an XOAUTH2 mechanism that introspects the bearer token. */
const XOAUTH2_SINK = `
import asyncio, base64, json, sys, urllib.parse, urllib.request
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult
port, maildir, introspect = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Handler(Mailbox):
    async def auth_XOAUTH2(self, server, args):
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        try:
            fields = dict(p.split('=', 1) for p in base64.b64decode(args[1]).decode().split('\x01') if '=' in p)
        except Exception:
            return AuthResult(success=False, handled=False)
        user, token = fields.get('user', ''), fields.get('auth', '')[len('Bearer '):]
        body = urllib.parse.urlencode({'token': token}).encode()
        info = json.loads(await asyncio.get_running_loop().run_in_executor(None, lambda: urllib.request.urlopen(introspect, body, timeout=10).read()))
        ok = info.get('active') is True and info.get('username') == user
        print(('XOAUTH2 ok ' if ok else 'XOAUTH2 refused ') + user, flush=True)
        if not ok:
            # As Gmail does: the error as a 334 challenge (JSON, RFC 7628 §3.2.2), the client answers empty, then 535.
            await server.challenge_auth(json.dumps({'status': '401', 'schemes': 'bearer', 'scope': 'mail'}))
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user)
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
handler = Handler(maildir)
loop.run_until_complete(loop.create_server(lambda: SMTP(handler, auth_required=True, auth_require_tls=False), '127.0.0.1', port))
loop.run_forever()
`;

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const who = serverIdentity();
  const dir = serverTempDir('smtp', who);
  const maildir = path.join(dir, 'mail');
  const port = await freePort();
  const tls = opts.tls;
  const tlsArgs = !tls ? [] : tls.mode === 'smtps' ? ['--smtpscert', tls.certFile, '--smtpskey', tls.keyFile] : ['--tlscert', tls.certFile, '--tlskey', tls.keyFile];
  // The Debian interpreter, not whatever `python3` is first on PATH: that is where the package lives.
  const proc: ServerProcess = opts.xoauth2
    ? spawnServer('/usr/bin/python3', ['-c', XOAUTH2_SINK, String(port), maildir, opts.xoauth2.introspectionUrl], who, dir)
    : spawnServer('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, ...tlsArgs, '-c', 'aiosmtpd.handlers.Mailbox', maildir], who, dir);
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
    output: () => proc.output.slice(),
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
