import net from 'node:net';

/** A loopback port that is free right now (bound, read, released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A port nothing listens on, for "connection refused" cases. */
export const closedPort = freePort;

/**
 * A loopback port where nobody answers: a listener (Python's, since Node accepts every connection itself) whose
 * accept queue is full and never drained, so the kernel drops further handshakes — a host that is down or behind a
 * firewall that drops, without leaving loopback (this machine's outbound TCP may be answered by a proxy).
 */
export async function silentPort(): Promise<{ port: number; close(): void }> {
  const { spawn } = await import('node:child_process');
  const script = [
    'import socket, sys',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    'port = s.getsockname()[1]',
    'held = []',
    'for _ in range(4):',
    '    c = socket.socket(); c.setblocking(False)',
    "    try: c.connect(('127.0.0.1', port))",
    '    except BlockingIOError: pass',
    '    held.append(c)',
    'print(port, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python3 exited with ${code} before giving its port`)));
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { port, close: () => void child.kill() };
}
