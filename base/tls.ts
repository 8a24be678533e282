// Server certificates for the monitors that hold their own TLS connections (mail, IRC): trust either the system's
// CAs or one private CA the user names, and say in plain words why a certificate was refused — the raw OpenSSL
// codes ("UNABLE_TO_VERIFY_LEAF_SIGNATURE") mean nothing to most people.
import { readFileSync } from 'node:fs';

/**
 * The PEM of a private CA to trust instead of the system's CAs, or undefined for the system's. Read on every
 * connect, so a renewed CA file is picked up without a restart. Throws a readable error for a missing or
 * non-PEM file.
 */
export function readCaFile(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`the CA file ${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  return pem;
}

/** A refused server certificate: retrying soon will not help, the user (or the server's admin) has to act. */
export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateError';
  }
}

const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);

/**
 * If `err` (as Node, imapflow, nodemailer or irc-framework report it) is a refused server certificate, the
 * reason as a CertificateError starting "certificate not trusted"; otherwise null. Libraries that wrap the
 * socket error keep only its message, so the messages are matched as well as the codes.
 */
export function certificateProblem(err: unknown, server: string, caFile?: string, options: { caFileField?: boolean } = {}): CertificateError | null {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return null;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  // Only point at a "CA file" setting where the caller has one (the plain HTTP fetch of pages and feeds has none).
  const hint = caFile
    ? `it is not signed by the CA in ${caFile}`
    : options.caFileField === false
      ? 'it is not signed by a CA this system trusts'
      : 'it is not signed by a CA this system trusts (for a private CA, set "CA file")';
  if (UNTRUSTED_CODES.has(code) || /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate signature failure/i.test(message)) {
    return new CertificateError(`certificate not trusted: ${server} presented a certificate, but ${hint}`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /does not match certificate's altnames/i.test(message)) {
    return new CertificateError(`certificate not trusted: ${server} presented a certificate for another host name`);
  }
  if (code === 'CERT_HAS_EXPIRED' || /certificate has expired/i.test(message)) {
    return new CertificateError(`certificate not trusted: the certificate of ${server} has expired`);
  }
  if (code === 'CERT_NOT_YET_VALID' || /certificate is not yet valid/i.test(message)) {
    return new CertificateError(`certificate not trusted: the certificate of ${server} is not valid yet (is this machine's clock right?)`);
  }
  if (code === 'CERT_REVOKED' || /certificate revoked/i.test(message)) {
    return new CertificateError(`certificate not trusted: the certificate of ${server} has been revoked`);
  }
  return e.cause && e.cause !== err ? certificateProblem(e.cause, server, caFile, options) : null;
}
