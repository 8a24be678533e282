// A private certificate authority made for one test run with Debian's openssl: a CA, a server certificate it
// signed for 127.0.0.1 and localhost, one the same CA signed for another name only (to show a name mismatch is
// refused), and a second, unrelated CA (to show that a certificate from the wrong CA is refused). The files are owned by the identity the test servers run as, so Dovecot/aiosmtpd/ngIRCd can read
// their key after dropping root.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chownTree, removeDir, serverIdentity, serverTempDir, type RunIdentity } from './server-process.js';

export interface TestPki {
  dir: string;
  /** PEM of the CA that signed the server certificate: what a client configures as its "CA file". */
  caFile: string;
  /** PEM of another CA that signed nothing here. */
  otherCaFile: string;
  /** The server's certificate (subjectAltName IP:127.0.0.1, DNS:localhost) and its unencrypted key. */
  certFile: string;
  keyFile: string;
  /** Signed by the same CA, but for elsewhere.example only: a server using it at 127.0.0.1 has the wrong name. */
  otherHostCertFile: string;
  otherHostKeyFile: string;
  /** RFC 7919 ffdhe2048 parameters, for servers (ngIRCd with GnuTLS) that would otherwise generate their own slowly. */
  dhFile: string;
  close(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** EC keys keep generation to a few milliseconds; certificates last two days, so a slow CI run cannot outlive them. */
function selfSignedCa(dir: string, name: string, cn: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

function serverCert(dir: string, name: string, cn: string, altNames: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  writeFileSync(path.join(dir, `${name}.ext`), ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${altNames}`, ''].join('\n'));
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

export function createTestPki(who: RunIdentity = serverIdentity()): TestPki {
  const dir = serverTempDir('pki', who);
  try {
    selfSignedCa(dir, 'ca', 'Panoptes Test CA');
    selfSignedCa(dir, 'other-ca', 'Somebody Else CA');
    serverCert(dir, 'server', 'localhost', 'IP:127.0.0.1,DNS:localhost');
    serverCert(dir, 'elsewhere', 'elsewhere.example', 'DNS:elsewhere.example');
    writeFileSync(path.join(dir, 'dh.pem'), openssl(['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048'], dir));
  } catch (err) {
    removeDir(dir);
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl could not make the test certificates: ${e.stderr?.toString() || e.message}`);
  }
  chownTree(dir, who);
  return {
    dir,
    caFile: path.join(dir, 'ca.crt'),
    otherCaFile: path.join(dir, 'other-ca.crt'),
    certFile: path.join(dir, 'server.crt'),
    keyFile: path.join(dir, 'server.key'),
    otherHostCertFile: path.join(dir, 'elsewhere.crt'),
    otherHostKeyFile: path.join(dir, 'elsewhere.key'),
    dhFile: path.join(dir, 'dh.pem'),
    close: () => removeDir(dir),
  };
}
