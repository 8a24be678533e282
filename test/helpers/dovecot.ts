// A real Dovecot IMAP server for tests: loopback only, a free port, users from a passwd-file, Maildir homes under
// a temp folder, run unprivileged. Plain by default; with `tls` it requires TLS (`ssl = required`) and listens
// twice: IMAPS (TLS from the first byte) on `tlsPort` and STARTTLS on `port`. With `idle: false` it does not
// offer IDLE, like servers that make clients poll. `stop()`/`start()` restart it on the same ports and with the
// same mail, so tests can take the server away and bring it back.
import { chmodSync, utimesSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { chownTree, freePort, removeDir, serverIdentity, serverTempDir, spawnServer, waitUntilListening, type ServerProcess } from './server-process.js';

export interface DovecotOptions {
  /** Certificate and key files (PEM) for `ssl = required`. */
  tls?: { certFile: string; keyFile: string };
  /** False: leave IDLE out of the capabilities, so clients have to poll. */
  idle?: boolean;
  /**
   * Also accept OAuth 2.0 bearer tokens (SASL XOAUTH2 and OAUTHBEARER) through Dovecot's oauth2 passdb, which
   * checks each token at this RFC 7662 introspection endpoint (POST token=…) and takes the user from "username".
   */
  oauth2?: { introspectionUrl: string };
}

export interface DovecotServer {
  host: string;
  /** Plain IMAP, or IMAP with STARTTLS (required) when started with `tls`. */
  port: number;
  /** IMAPS (TLS from the first byte), only when started with `tls`. */
  tlsPort?: number;
  dir: string;
  /** Lines Dovecot logged (all processes, since the first start). */
  readonly log: string[];
  /** Drop a raw RFC 822 message straight into a user's Maildir, as a local delivery agent would (works while stopped). */
  deliver(user: string, raw: string | Buffer, folder?: string): void;
  maildir(user: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Freeze every Dovecot process: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
  /**
   * Make the password file unreadable while running (a missing one would only mean "no such user"): every login is
   * then answered with Dovecot's internal-failure reply,
   * `NO [UNAVAILABLE] Temporary authentication failure`, as when its auth backend (LDAP, SQL) is down.
   * `restoreAuth()` puts it back.
   */
  breakAuth(): void;
  restoreAuth(): void;
  /** Stop and remove the temp folder. */
  close(): Promise<void>;
}

export async function startDovecot(users: Record<string, string> = { alice: 'secret' }, opts: DovecotOptions = {}): Promise<DovecotServer> {
  const who = serverIdentity();
  const dir = serverTempDir('dovecot', who);
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const passwd = Object.entries(users)
    .map(([u, p]) => `${u}:{PLAIN}${p}::::::`)
    .join('\n');
  writeFileSync(path.join(dir, 'users'), passwd + '\n');
  if (opts.oauth2) {
    writeFileSync(
      path.join(dir, 'oauth2.conf.ext'),
      `introspection_mode = post
introspection_url = ${opts.oauth2.introspectionUrl}
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
`,
    );
  }
  for (const d of ['run', 'state', 'home']) mkdirSync(path.join(dir, d));
  writeFileSync(path.join(dir, 'dovecot.conf'), config(dir, port, who.user, who.group, who.uid, who.gid, opts, tlsPort));
  chownTree(dir, who);

  const log: string[] = [];
  let proc: ServerProcess | null = null;
  let seq = 0;
  const maildir = (user: string) => path.join(dir, 'home', user, 'Maildir');

  const server: DovecotServer = {
    host: '127.0.0.1',
    port,
    ...(tlsPort ? { tlsPort } : {}),
    dir,
    log,
    maildir,
    deliver(user, raw, folder) {
      const base = folder && folder !== 'INBOX' ? path.join(maildir(user), `.${folder}`) : maildir(user);
      for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(base, sub), { recursive: true });
      const name = `${Date.now()}.P${process.pid}Q${++seq}.panoptes-test`;
      // Write to tmp/ then rename into new/: the Maildir way, so Dovecot never sees half a message.
      writeFileSync(path.join(base, 'tmp', name), raw);
      chownTree(path.join(dir, 'home'), who);
      renameSync(path.join(base, 'tmp', name), path.join(base, 'new', name));
    },
    async start() {
      if (proc) return;
      const p = spawnServer('dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], who);
      proc = p;
      const started = log.length;
      p.child.stdout!.on('data', (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean)));
      p.child.stderr!.on('data', (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean)));
      try {
        await waitUntilListening(port, p, { greeting: /^\* OK/ });
        if (tlsPort) await waitUntilListening(tlsPort, p);
      } catch (err) {
        await p.stop();
        proc = null;
        throw new Error(`dovecot did not start: ${(err as Error).message}\n${log.slice(started).join('\n')}`);
      }
    },
    async stop() {
      const p = proc;
      proc = null;
      await p?.stop();
    },
    freeze: () => proc?.freeze(),
    thaw: () => proc?.thaw(),
    // Dovecot re-reads the file when its mtime changes, so each change moves the mtime too.
    breakAuth: () => {
      chmodSync(path.join(dir, 'users'), 0o000);
      utimesSync(path.join(dir, 'users'), new Date(), new Date(Date.now() + 1000));
    },
    restoreAuth: () => {
      chmodSync(path.join(dir, 'users'), 0o644);
      utimesSync(path.join(dir, 'users'), new Date(), new Date(Date.now() + 2000));
    },
    async close() {
      await server.stop();
      removeDir(dir);
    },
  };
  await server.start();
  return server;
}

/** Dovecot 2.3's capabilities after login, less IDLE (and NOTIFY, which implies push too). */
const CAPABILITIES_WITHOUT_IDLE =
  'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE';

function config(dir: string, port: number, user: string, group: string, uid: number, gid: number, opts: DovecotOptions, tlsPort?: number): string {
  // With TLS: refuse logins without it. (Dovecot counts loopback as secure for plaintext auth, so tests check
  // the login log line for "TLS" to be sure the connection really was encrypted.)
  const ssl = opts.tls
    ? `ssl = required
ssl_cert = <${opts.tls.certFile}
ssl_key = <${opts.tls.keyFile}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes`
    : `ssl = no
disable_plaintext_auth = no`;
  return `# Written by the Panoptes test harness.
protocols = imap
listen = 127.0.0.1
${ssl}
${opts.idle === false ? `imap_capability = ${CAPABILITIES_WITHOUT_IDLE}` : ''}
auth_mechanisms = plain login${opts.oauth2 ? ' xoauth2 oauthbearer' : ''}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = /dev/stderr
info_log_path = /dev/stderr
default_internal_user = ${user}
default_internal_group = ${group}
default_login_user = ${user}
first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:~/Maildir
# Failed logins are answered after this long (default 2 s): keeps the wrong-password test short.
auth_failure_delay = 1 secs
${opts.oauth2 ? `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/oauth2.conf.ext
}
` : ''}passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users${opts.oauth2 ? '\n  mechanisms = plain login' : ''}
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/home/%u
}
service imap-login {
  chroot =
  process_min_avail = 1
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    ${tlsPort ? `address = 127.0.0.1
    port = ${tlsPort}
    ssl = yes` : 'port = 0'}
  }
}
service anvil {
  chroot =
}
`;
}
