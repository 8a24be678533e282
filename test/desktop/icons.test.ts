import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import path from 'node:path';
import { trayIconFile, windowIconFile } from '../../electron/icons.js';
import type { TrayIconState } from '../../electron/tray-model.js';

const root = process.env.PANOPTES_ROOT ?? process.cwd();
const assets = path.join(root, 'assets');
const STATES: TrayIconState[] = ['normal', 'unread', 'paused', 'dnd', 'failing'];

/** Width, height and RGBA pixels of a PNG (8-bit RGBA, non-interlaced: what resvg writes). */
function decodePng(buf: Buffer): { width: number; height: number; pixels: Buffer } {
  assert.equal(buf.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  let pos = 8;
  let width = 0, height = 0, colorType = -1;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      colorType = data[9]!;
      assert.equal(data[8], 8, 'bit depth 8');
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  assert.equal(colorType, 6, 'RGBA');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? pixels[y * stride + x - 4]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter]!;
      pixels[y * stride + x] = (line[x]! + pred) & 0xff;
    }
  }
  return { width, height, pixels };
}

function icoSizes(buf: Buffer): number[] {
  assert.equal(buf.readUInt16LE(2), 1, 'ICO type');
  return Array.from({ length: buf.readUInt16LE(4) }, (_, i) => buf[6 + 16 * i] || 256);
}

test('every tray state has its icon for each OS at the sizes the OS wants', () => {
  for (const s of STATES) {
    const linux = decodePng(readFileSync(trayIconFile(assets, 'linux', s)));
    assert.deepEqual([linux.width, linux.height], [24, 24], `linux ${s}`);
    assert.equal(decodePng(readFileSync(trayIconFile(assets, 'linux', s).replace('.png', '@2x.png'))).width, 48);
    const mac = trayIconFile(assets, 'darwin', s);
    assert.match(path.basename(mac), /Template\.png$/, 'macOS tints only images named …Template');
    assert.equal(decodePng(readFileSync(mac)).width, 16);
    assert.equal(decodePng(readFileSync(mac.replace('.png', '@2x.png'))).width, 32);
    assert.deepEqual(icoSizes(readFileSync(trayIconFile(assets, 'win32', s))), [16, 20, 24, 32, 40, 48]);
  }
});

test('macOS template images are black with alpha only, so the menu bar can tint them', () => {
  for (const s of STATES) {
    const { pixels } = decodePng(readFileSync(trayIconFile(assets, 'darwin', s).replace('.png', '@2x.png')));
    let opaque = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3]! === 0) continue;
      opaque++;
      assert.ok(pixels[i]! < 8 && pixels[i + 1]! < 8 && pixels[i + 2]! < 8, `${s}: coloured pixel`);
    }
    assert.ok(opaque > 100, `${s}: drawn, not empty`);
  }
});

test('the states are drawn differently, not one image copied five times', () => {
  const seen = new Set(STATES.map((s) => readFileSync(trayIconFile(assets, 'linux', s)).toString('base64')));
  assert.equal(seen.size, STATES.length);
  const mono = new Set(STATES.map((s) => readFileSync(trayIconFile(assets, 'darwin', s)).toString('base64')));
  assert.equal(mono.size, STATES.length);
});

test('app icons: PNGs 16–1024 for Linux, .ico up to 256 for Windows, .icns for macOS', () => {
  for (const n of [16, 32, 48, 64, 128, 256, 512, 1024]) {
    const png = decodePng(readFileSync(path.join(assets, 'icons', 'png', `${n}x${n}.png`)));
    assert.deepEqual([png.width, png.height], [n, n]);
  }
  assert.ok(icoSizes(readFileSync(path.join(assets, 'icons', 'icon.ico'))).includes(256));
  const icns = readFileSync(path.join(assets, 'icons', 'icon.icns'));
  assert.equal(icns.toString('ascii', 0, 4), 'icns');
  assert.equal(icns.readUInt32BE(4), icns.length);
  assert.ok(icns.includes(Buffer.from('ic10')), '1024 px (512@2x) entry');
  assert.ok(existsSync(windowIconFile(assets, 'linux')) && existsSync(windowIconFile(assets, 'win32')));
});
