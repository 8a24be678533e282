// Certificates for MQTT over TLS tests, made by Debian's openssl for this run: a private CA, a server certificate
// for 127.0.0.1/localhost and a client certificate (for Mosquitto's `require_certificate`). Owned by nobody when
// running as root, so a Mosquitto that drops privileges can read them.
import { execFileSync } from 'node:child_process';
import { chownSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface MqttPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export function makeMqttPki(dir: string): MqttPki {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Panoptes test CA');
  for (const who of ['server', 'client']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who === 'server' ? 'localhost' : 'panoptes-agent'}`);
    const ext = f(`${who}.ext`);
    execFileSync('/bin/sh', ['-c', `printf '%s\\n' "${who === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost' : 'extendedKeyUsage=clientAuth'}" > "${ext}"`]);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '2', '-extfile', ext);
  }
  if (process.getuid?.() === 0) for (const n of readdirSync(dir)) chownSync(f(n), 65534, 65534);
  if (process.getuid?.() === 0) chownSync(dir, 65534, 65534);
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
