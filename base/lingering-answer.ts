// Answering an HTTP request before its body has all arrived, without losing the answer to a reset.
import type http from 'node:http';

/** What is read and dropped of a refused request's body after the answer, at most, before the connection is closed. */
const DROP_MAX_BYTES = 16 * 1024 * 1024;
const DROP_MAX_MS = 5_000;
/** How long a sender past the budget has to read the answer before its connection is dropped. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Answer a request whose body is still coming (past a cap, announced too large, or not read at all), then read and
 * drop the rest for a while before closing — a "lingering close". Closing the moment the answer is written (what Node
 * does when the sender asked for `Connection: close`, as one-shot senders do) makes the sender's next write meet a
 * reset, and the reset throws away the answer waiting in its receive buffer: it saw EPIPE instead of a webhook's 413
 * and its reason on one attempt in six chunked and one in two announced (session 11), and a heartbeat posted a cron
 * job's output saw the same instead of its 200. The connection is closed when the sender stops or a budget runs out
 * (16 MiB, 5 s; then reading stops and the connection is dropped 5 s later), so a sender that never stops costs
 * little; one that stops within it keeps its connection.
 */
export function answerThenDrop(req: http.IncomingMessage, res: http.ServerResponse, answer: () => void): void {
  // Decided when the header is written: Node must not close at the answer's end; this function closes, below.
  res.shouldKeepAlive = true;
  answer();
  let dropped = 0;
  const stop = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
  };
  const close = () => {
    stop();
    // Past the budget: read no more, so the sender's writes stall rather than meet a reset (a reset throws away the
    // answer it may not have read yet), and end our side, so it learns we are done. Dropped for good a few seconds
    // later: by then it has had the answer in its hands for that long.
    req.pause();
    req.socket.pause();
    req.socket.end();
    setTimeout(() => req.socket.destroy(), CLOSE_GRACE_MS).unref();
  };
  const onData = (chunk: Buffer) => {
    dropped += chunk.byteLength;
    if (dropped > DROP_MAX_BYTES) close();
  };
  const onEnd = () => {
    stop();
    // All read, the answer written: closing now resets nothing. A sender that asked to close gets its close.
    if (/\bclose\b/i.test(String(req.headers.connection ?? ''))) req.socket.end();
  };
  const timer = setTimeout(close, DROP_MAX_MS);
  timer.unref();
  // Destroyed before its end, the request emits an error: expected here, and nobody else listens.
  req.on('error', () => {});
  req.on('data', onData);
  req.on('end', onEnd);
  req.resume();
}
