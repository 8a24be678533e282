// Chat text is untrusted: strip IRC formatting codes before it reaches events, and find mentions as whole words.

// Bold, color (with its digits), reset, reverse, italics, underline, strikethrough, monospace, hex color.
const FORMATTING = /\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?|[\x02\x0F\x16\x1D\x1F\x1E\x11]/g;

export function stripFormatting(text: string): string {
  return text.replace(FORMATTING, '').replace(/[\x00-\x08\x0A-\x1F\x7F]/g, '');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does `text` mention one of `words` as a whole word (not "alice" inside "malice"), ignoring case? */
export function findMention(text: string, words: string[]): string | null {
  for (const w of words) {
    if (!w) continue;
    const re = new RegExp(`(?<![\\p{L}\\p{N}_])${escape(w)}(?![\\p{L}\\p{N}_])`, 'iu');
    if (re.test(text)) return w;
  }
  return null;
}
