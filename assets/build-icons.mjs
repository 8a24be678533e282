// Draws Panoptes' icons as SVG and renders every size each OS wants. The outputs are committed; run this again
// after changing the drawing: `node assets/build-icons.mjs` (needs the @resvg/resvg-js dev dependency).
//
//   assets/icon.svg, assets/tray-<state>.svg        the drawings
//   assets/icons/png/<N>x<N>.png, icon.png          app icon (Linux, electron-builder), 16…1024
//   assets/icons/icon.ico, assets/icons/icon.icns   app icon for Windows and macOS
//   assets/tray/linux/<state>.png (+@2x)            24 px colour tray icons (48 px for HiDPI)
//   assets/tray/macos/<state>Template.png (+@2x)    16 px template images: black + alpha, macOS tints them
//   assets/tray/windows/<state>.ico                 16, 20, 24, 32, 40, 48 px
import { Resvg } from '@resvg/resvg-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TRAY_STATES = ['normal', 'unread', 'paused', 'dnd', 'failing'];

const C = {
  lid: '#13212e',
  white: '#f4f7fa',
  iris: '#22b3a1',
  irisDim: '#8c98a4',
  pupil: '#0c1822',
  unread: '#ff8a1f',
  paused: '#5f6b78',
  dnd: '#7a5cff',
  failing: '#e5383b',
};

// ---- tray glyph, 64×64 design grid -------------------------------------------------------------------------

const EYE = 'M5 33 C 17 14, 47 14, 59 33 C 47 52, 17 52, 5 33 Z';
const CLOSED_LID = 'M7 31 C 19 45, 45 45, 57 31';
const LASHES = ['M16 40 L12 47', 'M26 43.5 L24.5 51', 'M38 43.5 L39.5 51', 'M48 40 L52 47'];

/** Badge symbol drawn inside the badge circle at (49,15) r 14: knocked out in mono, white in colour. */
function badgeSymbol(state) {
  switch (state) {
    case 'unread':
      return '<circle cx="49" cy="15" r="5"/>';
    case 'paused':
      return '<rect x="43" y="8" width="4.5" height="14" rx="1.2"/><rect x="50.5" y="8" width="4.5" height="14" rx="1.2"/>';
    case 'dnd':
      return '<rect x="41" y="12.5" width="16" height="5" rx="2.5"/>';
    case 'failing':
      return '<rect x="46.8" y="6.5" width="4.4" height="11" rx="2"/><circle cx="49" cy="22" r="2.6"/>';
    default:
      return '';
  }
}

function eyeShapes(state, mono) {
  const stroke = mono ? '#000' : C.lid;
  if (state === 'dnd') {
    // Eyes closed: do not disturb. In colour a light halo keeps the lid visible on dark panels.
    const halo = mono ? '' : `<path d="${CLOSED_LID}" fill="none" stroke="${C.white}" stroke-width="9" stroke-linecap="round"/>` +
      LASHES.map((d) => `<path d="${d}" stroke="${C.white}" stroke-width="8" stroke-linecap="round"/>`).join('');
    return halo + `<path d="${CLOSED_LID}" fill="none" stroke="${stroke}" stroke-width="5" stroke-linecap="round"/>` +
      LASHES.map((d) => `<path d="${d}" stroke="${stroke}" stroke-width="4" stroke-linecap="round"/>`).join('');
  }
  const iris = mono ? '#000' : state === 'paused' ? C.irisDim : C.iris;
  if (mono) {
    // Template image: outline and iris in black, pupil and highlight cut out.
    return `<path d="${EYE}" fill="none" stroke="#000" stroke-width="5" stroke-linejoin="round"/>` +
      `<circle cx="32" cy="33" r="11" fill="#000" mask="url(#pupil)"/>`;
  }
  return `<path d="${EYE}" fill="${C.white}" stroke="${stroke}" stroke-width="4.5" stroke-linejoin="round"/>` +
    `<circle cx="32" cy="33" r="11.5" fill="${iris}"/>` +
    `<circle cx="32" cy="33" r="5" fill="${C.pupil}"/>` +
    `<circle cx="36" cy="29" r="2.6" fill="#fff" opacity="0.9"/>`;
}

export function traySvg(state, mono = false) {
  const badge = state === 'normal' ? '' : mono
    ? `<circle cx="49" cy="15" r="14" fill="#000" mask="url(#badge)"/>`
    : `<circle cx="49" cy="15" r="14" fill="${C[state]}" stroke="#fff" stroke-width="2.5"/><g fill="#fff">${badgeSymbol(state)}</g>`;
  // In mono the badge needs a clear ring around it so it reads apart from the eye.
  const eyeMask = state !== 'normal' ? ' mask="url(#ring)"' : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
<defs>
  <mask id="pupil"><rect width="64" height="64" fill="#fff"/><circle cx="32" cy="33" r="4.5" fill="#000"/><circle cx="36.5" cy="28.5" r="2.2" fill="#000"/></mask>
  <mask id="badge"><rect width="64" height="64" fill="#fff"/><g fill="#000">${badgeSymbol(state)}</g></mask>
  <mask id="ring"><rect width="64" height="64" fill="#fff"/><circle cx="49" cy="15" r="17.5" fill="#000"/></mask>
</defs>
<g${eyeMask}>${eyeShapes(state, mono)}</g>
${badge}
</svg>
`;
}

// ---- app icon, 1024×1024 ----------------------------------------------------------------------------------

export function appSvg() {
  // Argus Panoptes, the hundred-eyed watchman: one open eye, and a ring of small ones keeping watch around it.
  const ring = Array.from({ length: 12 }, (_, i) => {
    const a = (i / 12) * Math.PI * 2 - Math.PI / 2;
    const x = 512 + Math.cos(a) * 370;
    const y = 512 + Math.sin(a) * 370;
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${i % 3 === 0 ? 30 : 22}" fill="${i % 3 === 0 ? '#ffb454' : '#3fd0bd'}" opacity="${i % 3 === 0 ? 1 : 0.85}"/>`;
  }).join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024">
<defs>
  <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="#1d3550"/>
    <stop offset="1" stop-color="#0b1622"/>
  </linearGradient>
  <radialGradient id="iris" cx="0.5" cy="0.5" r="0.5">
    <stop offset="0" stop-color="#7ff0dd"/>
    <stop offset="0.55" stop-color="#22b3a1"/>
    <stop offset="1" stop-color="#0f6e65"/>
  </radialGradient>
</defs>
<rect x="32" y="32" width="960" height="960" rx="210" fill="url(#bg)"/>
<g>
  ${ring}
</g>
<path d="M182 512 C 330 290, 694 290, 842 512 C 694 734, 330 734, 182 512 Z" fill="#f4f7fa" stroke="#0b1622" stroke-width="26" stroke-linejoin="round"/>
<circle cx="512" cy="512" r="150" fill="url(#iris)"/>
<circle cx="512" cy="512" r="66" fill="#0c1822"/>
<circle cx="562" cy="458" r="30" fill="#fff" opacity="0.92"/>
</svg>
`;
}

// ---- containers -------------------------------------------------------------------------------------------

export function render(svg, size) {
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'width', value: size }, background: 'rgba(0,0,0,0)' }).render().asPng());
}

/** ICO with PNG-compressed entries (Windows Vista and later read these at every size). */
export function ico(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    const e = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, e);
    header.writeUInt8(size >= 256 ? 0 : size, e + 1);
    header.writeUInt8(0, e + 2);
    header.writeUInt8(0, e + 3);
    header.writeUInt16LE(1, e + 4);
    header.writeUInt16LE(32, e + 6);
    header.writeUInt32LE(png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.png)]);
}

/** ICNS with PNG chunks (macOS 10.7+). */
export function icns(svg) {
  const types = [['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024], ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512]];
  const chunks = types.map(([type, size]) => {
    const png = render(svg, size);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const body = Buffer.concat(chunks);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}

function out(rel, data) {
  const file = path.join(here, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const app = appSvg();
  out('icon.svg', app);
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) out(`icons/png/${size}x${size}.png`, render(app, size));
  out('icons/icon.png', render(app, 1024));
  out('icons/icon.ico', ico([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: render(app, size) }))));
  out('icons/icon.icns', icns(app));
  for (const state of TRAY_STATES) {
    const colour = traySvg(state);
    const mono = traySvg(state, true);
    out(`tray-${state}.svg`, colour);
    out(`tray/linux/${state}.png`, render(colour, 24));
    out(`tray/linux/${state}@2x.png`, render(colour, 48));
    out(`tray/macos/${state}Template.png`, render(mono, 16));
    out(`tray/macos/${state}Template@2x.png`, render(mono, 32));
    out(`tray/windows/${state}.ico`, ico([16, 20, 24, 32, 40, 48].map((size) => ({ size, png: render(colour, size) }))));
  }
  console.log('icons written to', here);
}
