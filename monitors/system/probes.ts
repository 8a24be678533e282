// Readings of the local machine: CPU, memory, disks, battery. Linux first (/proc, /sys), with Node's portable
// `os` and `fs.statfs` where those suffice, so the same code gives sensible numbers on macOS and Windows.
import os from 'node:os';
import { readFile, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';

export interface CpuTimes {
  idle: number;
  total: number;
}

export function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/** Busy share of all cores between two snapshots, 0–100. */
export function cpuPercent(a: CpuTimes, b: CpuTimes): number | null {
  const total = b.total - a.total;
  if (total <= 0) return null;
  return round1(100 * (1 - (b.idle - a.idle) / total));
}

export interface MemoryReading {
  totalBytes: number;
  usedBytes: number;
  percent: number;
}

/** Used memory the way `free` counts it: total minus MemAvailable (page cache that can be dropped is not "used"). */
export async function memory(): Promise<MemoryReading> {
  const total = os.totalmem();
  let available = os.freemem();
  try {
    const info = await readFile('/proc/meminfo', 'utf8');
    const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(info);
    if (m) available = Number(m[1]) * 1024;
  } catch {
    // not Linux: os.freemem() it is
  }
  const used = Math.max(0, total - available);
  return { totalBytes: total, usedBytes: used, percent: round1((100 * used) / total) };
}

export interface DiskReading {
  mount: string;
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
  percent: number;
}

/** Like `df`: used / (used + available to unprivileged users), so a full disk reads 100% even with root's reserve left. */
export async function disk(mount: string): Promise<DiskReading> {
  const s = await statfs(mount);
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  const denom = used + avail;
  return { mount, totalBytes: s.blocks * s.bsize, usedBytes: used, freeBytes: avail, percent: denom > 0 ? round1((100 * used) / denom) : 0 };
}

const REAL_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'f2fs', 'vfat', 'exfat', 'ntfs', 'ntfs3', 'fuseblk', 'jfs', 'reiserfs', 'bcachefs', 'overlay']);

/** Mounts worth watching: "/" plus every mounted disk filesystem (no /proc, tmpfs, snaps or bind duplicates). */
export async function discoverMounts(): Promise<string[]> {
  const mounts = new Set<string>(['/']);
  try {
    const seenDevices = new Set<string>();
    for (const line of (await readFile('/proc/mounts', 'utf8')).split('\n')) {
      const [device, rawMount, type] = line.split(' ');
      if (!device || !rawMount || !type || !REAL_FS.has(type)) continue;
      const mount = rawMount.replace(/\\040/g, ' ');
      if (mount.startsWith('/snap/') || mount.startsWith('/proc') || mount.startsWith('/sys')) continue;
      if (seenDevices.has(device) && mount !== '/') continue;
      seenDevices.add(device);
      mounts.add(mount);
    }
  } catch {
    // not Linux: "/" only
  }
  return [...mounts];
}

export interface BatteryReading {
  name: string;
  percent: number | null;
  charging: boolean;
  status: string;
}

/** The first battery under /sys/class/power_supply (type "Battery"), or null when the machine has none. */
export async function battery(powerSupplyDir: string): Promise<BatteryReading | null> {
  let entries: string[];
  try {
    entries = (await readdir(powerSupplyDir)).sort();
  } catch {
    return null;
  }
  for (const name of entries) {
    const dir = path.join(powerSupplyDir, name);
    const type = await readTrimmed(path.join(dir, 'type'));
    if (type !== 'Battery') continue;
    // Some "batteries" are a mouse or a UPS reported through USB HID; only the system's own counts.
    const scope = await readTrimmed(path.join(dir, 'scope'));
    if (scope === 'Device') continue;
    const capacityText = await readTrimmed(path.join(dir, 'capacity'));
    const capacity = capacityText === null || capacityText === '' ? NaN : Number(capacityText);
    const status = (await readTrimmed(path.join(dir, 'status'))) || 'Unknown';
    return { name, percent: Number.isFinite(capacity) ? capacity : null, charging: status === 'Charging', status };
  }
  return null;
}

async function readTrimmed(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
