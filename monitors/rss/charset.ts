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

export function decodeFeedBytes(bytes: Uint8Array, contentType?: string | null): Decoded {
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
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252', source: 'fallback' };
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
