// Processes as Linux shows them in /proc: name, command line, CPU time and resident memory. Read directly (no `ps`),
// so a check costs a directory listing and a few small reads per process.
import { readdir, readFile } from 'node:fs/promises';

export interface ProcInfo {
  pid: number;
  /** The kernel's short name (comm, at most 15 characters). */
  name: string;
  /** The full command line, arguments separated by spaces ("" for kernel threads). */
  cmdline: string;
  /** The program file's base name from argv[0], which is not cut at 15 characters. */
  exe: string;
  /** user + system CPU time, clock ticks. */
  cpuTicks: number;
  rssBytes: number;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
export const TICKS_PER_SECOND = 100;
const PAGE = 4096;

export async function listProcesses(root = '/proc'): Promise<ProcInfo[]> {
  const names = await readdir(root);
  const out: ProcInfo[] = [];
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        try {
          const [stat, cmd] = await Promise.all([readFile(`${root}/${n}/stat`, 'utf8'), readFile(`${root}/${n}/cmdline`)]);
          // "pid (comm) state ppid …": comm may hold spaces and parentheses, so cut at the last ")".
          const close = stat.lastIndexOf(')');
          const name = stat.slice(stat.indexOf('(') + 1, close);
          const rest = stat.slice(close + 2).split(' ');
          const args = cmd.toString('utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
          out.push({
            pid: Number(n),
            name,
            cmdline: args.join(' ').trim(),
            exe: (args[0] ?? '').split('/').pop() ?? '',
            cpuTicks: Number(rest[11]) + Number(rest[12]),
            rssBytes: Number(rest[21]) * PAGE,
          });
        } catch {
          /* the process ended while we looked */
        }
      }),
  );
  return out.sort((a, b) => a.pid - b.pid);
}
