import { MAX_PROTOCOL_MESSAGE_BYTES } from '../../../core/protocol-limits.js';

/** Room left in a message for the request's id, method name and options around the file's text. */
const ENVELOPE_BYTES = 4 * 1024;

/**
 * An OPML file's text, ready for `monitors.importOpml`; throws a readable error when the request would be over the
 * protocol's message limit, because sent, the server would close the page's connection and the import would fail
 * without saying why. The CLI reads the file itself, so it takes larger ones.
 */
export async function opmlForImport(file: File): Promise<string> {
  const limitMiB = MAX_PROTOCOL_MESSAGE_BYTES / 1024 / 1024;
  const tooLarge = (bytes: number) =>
    new Error(
      `The file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; the app imports OPML files up to ${limitMiB} MiB. ` +
        `Import it from a terminal instead: quit Panoptes (or stop its agent), then run \`panoptes opml import FILE\`.`,
    );
  // The text goes inside a JSON string: quotes, backslashes and control characters take more room there.
  if (file.size + ENVELOPE_BYTES > MAX_PROTOCOL_MESSAGE_BYTES) throw tooLarge(file.size);
  const text = await file.text();
  const encoded = new TextEncoder().encode(JSON.stringify(text)).byteLength;
  if (encoded + ENVELOPE_BYTES > MAX_PROTOCOL_MESSAGE_BYTES) throw tooLarge(encoded);
  return text;
}
