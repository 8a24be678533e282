// irc-framework's TCP transport opens TLS without a way to name a CA, so a server with a private CA could only
// be reached by switching verification off. This subclass opens the TLS socket itself — verified, with the
// user's CA when one is set — and hands it to the library's own socket handling; plain TCP is left to the parent.
import net from 'node:net';
import tls from 'node:tls';
import NetTransport from 'irc-framework/src/transports/net.js';

/** net.js's "connecting" socket state (it keeps the constants private). */
const SOCK_CONNECTING = 1;

export function verifyingTransport(ca: Buffer | undefined): typeof NetTransport {
  return class VerifyingTransport extends NetTransport {
    override connect(): void {
      const o = this.options;
      if (!o.tls && !o.ssl) return super.connect();
      // The same preparation the parent's connect() does before it creates a socket.
      this.disposeSocket();
      this.requested_disconnect = false;
      this.incoming_buffer = Buffer.alloc(0);
      if (!o.encoding || !this.setEncoding(o.encoding)) this.setEncoding('utf8');
      this.state = SOCK_CONNECTING;
      const host = String(o.host);
      const socket = tls.connect({
        host,
        port: Number(o.port) || 6697,
        // SNI only for names; for an IP the certificate must list that IP.
        ...(net.isIP(host) ? {} : { servername: host }),
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        ...(ca ? { ca } : {}),
      });
      this.socket = socket;
      this._onSocketCreate(o, socket);
    }
  };
}
