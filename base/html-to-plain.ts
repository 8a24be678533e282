// HTML to readable text for mail bodies and Mastodon posts. html-to-text brings htmlparser2, selderee and their
// parsers (about 10 MB of RSS): it is loaded when the first HTML body is read, not with the engine (#22: idle memory).
let convert: typeof import('html-to-text').convert | undefined;

/** The text of an HTML fragment: links as their words (no URLs), images left out, lines as written. */
export async function htmlToPlain(html: string): Promise<string> {
  convert ??= (await import('html-to-text')).convert;
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
    ],
  });
}
