/**
 * Turn a feed's bytes into text. Precedence, as in RFC 7303 and what browsers do:
 *   1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE),
 *   2. the charset parameter of the HTTP Content-Type,
 *   3. UTF-16/32 recognised from the first bytes of `<?xml` without a BOM,
 *   4. the XML declaration's encoding,
 *   5. UTF-8 — and if that produces invalid sequences with nothing declared, windows-1252, because undeclared
 *      Latin-1 feeds are common and a few wrong characters beat a page of U+FFFD.
 * Text/xml without a charset follows RFC 7303 (the document decides) rather than RFC 3023's old "us-ascii".
 * Labels go through the WHATWG Encoding Standard (TextDecoder), so iso-8859-1 and us-ascii read as windows-1252
 * (that is how publishers mean them: "smart quotes" in 0x80–0x9F come out right).
 */
export interface Decoded {
  text: string;
  /** The encoding actually used, lower-case WHATWG name (utf-32 ones are ours: TextDecoder has none). */
  encoding: string;
  /** Where the decision came from. */
  source: 'bom' | 'http' | 'sniff' | 'declaration' | 'default' | 'fallback';
}

export function charsetFromContentType(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*("([^"]*)"|'([^']*)'|([^;\s]*))/i.exec(contentType);
  const label = (m?.[2] ?? m?.[3] ?? m?.[4] ?? '').trim();
  return label || null;
}

/**
 * C1 control characters (U+0080–U+009F) never mean anything in a feed; when they appear, the publisher meant
 * windows-1252 (curly quotes, dashes, €). Map them the way feedparser's "demoronize" does.
 */
export function fixC1Controls(text: string): string {
  if (!/[\u0080-\u009f]/.test(text)) return text;
  return text.replace(/[\u0080-\u009f]/g, (c) => cp1252C1(c.charCodeAt(0)));
}

// windows-1252's printable characters at 0x80–0x9F; the five holes (81, 8D, 8F, 90, 9D) map to nothing.
const CP1252_C1 = '€\0‚ƒ„…†‡ˆ‰Š‹Œ\0Ž\0\0‘’“”•–—˜™š›œ\0žŸ';

/** The windows-1252 character for a byte 0x80–0x9F ('' for the unassigned ones). */
export function cp1252C1(byte: number): string {
  const ch = CP1252_C1[byte - 0x80] ?? '';
  return ch === '\0' ? '' : ch;
}

export function decodeFeedBytes(bytes: Uint8Array, contentType?: string | null): Decoded {
  const d = decodeRaw(bytes, contentType);
  return { ...d, text: fixC1Controls(d.text) };
}

function decodeRaw(bytes: Uint8Array, contentType?: string | null): Decoded {
  const bom = detectBom(bytes);
  if (bom) return { text: decodeWith(bom.encoding, bytes.subarray(bom.length)), encoding: bom.encoding, source: 'bom' };

  const httpLabel = charsetFromContentType(contentType);
  const httpEnc = httpLabel ? normalizeLabel(httpLabel) : null;
  const sniffed = sniffWideEncoding(bytes);
  // A header claiming an 8-bit charset cannot be right for a document that is visibly UTF-16/32.
  if (httpEnc && !(sniffed && !httpEnc.startsWith('utf-16') && !httpEnc.startsWith('utf-32'))) {
    return { text: decodeWith(httpEnc, bytes), encoding: httpEnc, source: 'http' };
  }
  if (sniffed) return { text: decodeWith(sniffed, bytes), encoding: sniffed, source: 'sniff' };

  const declared = declaredEncoding(bytes);
  // A declaration of UTF-16/32 in a document we read as ASCII-compatible is wrong (often re-encoded by a proxy).
  if (declared && !declared.startsWith('utf-16') && !declared.startsWith('utf-32')) {
    return { text: decodeWith(declared, bytes), encoding: declared, source: 'declaration' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8', source: 'default' };
  } catch {
    return { text: decodeWith('windows-1252', bytes), encoding: 'windows-1252', source: 'fallback' };
  }
}

function detectBom(b: Uint8Array): { encoding: string; length: number } | null {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return { encoding: 'utf-32le', length: 4 };
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return { encoding: 'utf-32be', length: 4 };
  if (b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return null;
}

/** `<` followed by NULs (or NULs then `<`) is how UTF-16/32 XML starts when it has no BOM. */
function sniffWideEncoding(b: Uint8Array): string | null {
  if (b.length < 4) return null;
  if (b[0] === 0x3c && b[1] === 0 && b[2] === 0 && b[3] === 0) return 'utf-32le';
  if (b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0x3c) return 'utf-32be';
  if (b[0] === 0x3c && b[1] === 0 && b[2] !== 0) return 'utf-16le';
  if (b[0] === 0 && b[1] === 0x3c) return 'utf-16be';
  return null;
}

function declaredEncoding(b: Uint8Array): string | null {
  // The declaration is ASCII by definition; look only at the first line-ish bytes.
  const head = Buffer.from(b.subarray(0, 200)).toString('latin1');
  const m = /^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(head);
  return m?.[1] ? normalizeLabel(m[1]) : null;
}

/** A WHATWG encoding name for a label, or null when nobody knows the label (then the caller moves on). */
export function normalizeLabel(label: string): string | null {
  const l = label.trim().toLowerCase();
  if (l === 'utf-32' || l === 'utf32' || l === 'ucs-4') return 'utf-32be';
  if (l === 'utf-32le' || l === 'utf-32be') return l;
  if (l === 'utf-16' || l === 'utf16') return 'utf-16be';
  try {
    return new TextDecoder(l).encoding;
  } catch {
    return null;
  }
}

function decodeWith(encoding: string, bytes: Uint8Array): string {
  if (encoding === 'utf-32le' || encoding === 'utf-32be') return decodeUtf32(bytes, encoding === 'utf-32le');
  // Node's TextDecoder drops bytes 0x80–0x9F for windows-1252 (seen on Node 20): read as Latin-1, and
  // fixC1Controls maps those bytes to windows-1252's characters afterwards.
  if (encoding === 'windows-1252') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let text = new TextDecoder(encoding).decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

function decodeUtf32(bytes: Uint8Array, little: boolean): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const cp = view.getUint32(i, little);
    out.push(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd');
  }
  const text = out.join('');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
