// Follows one file by name like `tail -F`: keeps reading the old file to its end after a rotation (rename + new
// file), starts over after a truncation, waits for a missing file, and splits lines with bounded memory — a line
// longer than the limit is handed over truncated and the rest of it skipped, so no writer can make us buffer more.
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface TailPosition {
  /** Inode of the file the offset belongs to (string: inodes can exceed 2^53). */
  ino: string;
  offset: number;
  /** In the middle of an over-long line whose start was already handed over: skip to the next newline. */
  skipping: boolean;
}

export interface TailerOptions {
  fromBeginning: boolean;
  maxLineLength: number;
  chunkSize?: number;
  /** Stop a pass after this many bytes so one pass stays short; the next pass continues. */
  maxBytesPerPass?: number;
}

export type LineHandler = (line: string, truncated: boolean) => Promise<void> | void;

export interface PassResult {
  missing: boolean;
  bytesRead: number;
  /** More data was waiting when the pass stopped at maxBytesPerPass. */
  more: boolean;
}

export class FileTailer {
  private fh: FileHandle | null = null;
  private ino: string | null = null;
  private offset = 0;
  private skipping = false;
  private readonly chunk: Buffer;
  private readonly maxBytesPerPass: number;

  constructor(
    readonly path: string,
    private readonly opts: TailerOptions,
    private saved?: TailPosition,
  ) {
    this.chunk = Buffer.allocUnsafe(opts.chunkSize ?? 64 * 1024);
    this.maxBytesPerPass = opts.maxBytesPerPass ?? 32 * 1024 * 1024;
  }

  position(): TailPosition | null {
    return this.ino === null ? null : { ino: this.ino, offset: this.offset, skipping: this.skipping };
  }

  /** Start reading at `offset` bytes into the current file, at a line start (used to show the last lines). */
  async seekNearEnd(bytes: number): Promise<void> {
    await this.openCurrent(true);
    if (!this.fh) return;
    const size = (await this.fh.stat()).size;
    this.offset = Math.max(0, size - bytes);
    // Unless at the file's start, we landed mid-line: drop up to the next newline.
    this.skipping = this.offset > 0;
  }

  /** Read everything new, handing over complete lines. */
  async poll(onLine: LineHandler, signal?: AbortSignal): Promise<PassResult> {
    let bytesRead = 0;
    let named: Awaited<ReturnType<typeof stat>> | null = null;
    try {
      named = await stat(this.path, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (this.fh && (!named || String(named.ino) !== this.ino)) {
      // Rotated or deleted: what was written to the old file before the switch still counts.
      bytesRead += await this.drain(onLine, signal, Infinity);
      await this.closeFile();
      this.startFresh = true;
    }
    if (!named) {
      // tail -F: a file that appears later is new in full.
      this.startFresh = true;
      return { missing: true, bytesRead, more: false };
    }
    if (!this.fh) await this.openCurrent(false);
    if (!this.fh) return { missing: true, bytesRead, more: false };

    const size = (await this.fh.stat()).size;
    if (size < this.offset) {
      // Truncated in place (copytruncate, `> file`): the file starts over.
      this.offset = 0;
      this.skipping = false;
    }
    const budget = this.maxBytesPerPass - bytesRead;
    const n = await this.drain(onLine, signal, budget);
    bytesRead += n;
    return { missing: false, bytesRead, more: n >= budget };
  }

  async close(): Promise<void> {
    await this.closeFile();
  }

  /** A file that appeared after a rotation is read from its first byte, whatever `fromBeginning` says. */
  private startFresh = false;

  private async openCurrent(forDisplay: boolean): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) {
      await fh.close();
      throw new Error(`${this.path} is not a regular file`);
    }
    this.fh = fh;
    const ino = String(st.ino);
    const size = Number(st.size);
    if (this.saved && this.saved.ino === ino) {
      // Resume where we stopped before a restart; lines written meanwhile are not lost.
      this.offset = this.saved.offset <= size ? this.saved.offset : 0;
      this.skipping = this.saved.offset <= size ? this.saved.skipping : false;
    } else if (this.saved || this.startFresh || this.opts.fromBeginning || forDisplay) {
      // Replaced while we were away, or a new file after rotation: all of it is new.
      this.offset = 0;
      this.skipping = false;
    } else {
      this.offset = size;
      this.skipping = false;
    }
    this.saved = undefined;
    this.startFresh = false;
    this.ino = ino;
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close().catch(() => {});
  }

  /**
   * Read from `offset` to end of file (or `budget` bytes), splitting lines. A partial last line is not consumed:
   * the offset stays at its start and the next pass reads it again once its newline arrived.
   */
  private async drain(onLine: LineHandler, signal: AbortSignal | undefined, budget: number): Promise<number> {
    const fh = this.fh!;
    const max = this.opts.maxLineLength;
    let pos = this.offset;
    let lineStart = this.offset;
    let pieces: Buffer[] = [];
    let pieceLen = 0;
    let consumed = 0;
    while (consumed < budget) {
      if (signal?.aborted) break;
      const { bytesRead } = await fh.read(this.chunk, 0, this.chunk.length, pos);
      if (bytesRead === 0) break;
      const buf = this.chunk.subarray(0, bytesRead);
      let from = 0;
      while (from < bytesRead) {
        const nl = buf.indexOf(0x0a, from);
        const end = nl === -1 ? bytesRead : nl;
        if (!this.skipping) {
          const room = max - pieceLen;
          const take = Math.min(room, end - from);
          if (take > 0) {
            // Copy: the chunk buffer is reused by the next read.
            pieces.push(Buffer.from(buf.subarray(from, from + take)));
            pieceLen += take;
          }
          // A byte beyond the limit that is not the newline: the line is too long.
          if (end - from > take) {
            // Over the limit: hand over what we have now and skip the rest of this line.
            await onLine(decode(pieces), true);
            pieces = [];
            pieceLen = 0;
            this.skipping = true;
          }
        }
        if (nl === -1) break;
        if (this.skipping) {
          this.skipping = false;
        } else {
          await onLine(decode(pieces), false);
          pieces = [];
          pieceLen = 0;
        }
        from = nl + 1;
        lineStart = pos + from;
        // Commit per line so a stop in the middle of a burst resumes exactly after the last handed-over line.
        this.offset = lineStart;
      }
      pos += bytesRead;
      consumed += bytesRead;
      if (this.skipping) {
        // Bytes of a line we are skipping are consumed for good; never re-read them.
        lineStart = pos;
        this.offset = pos;
      }
    }
    // A partial line (no newline yet) stays unconsumed: offset remains at its start.
    return consumed;
  }
}

function decode(pieces: Buffer[]): string {
  const s = (pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)).toString('utf8');
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}
