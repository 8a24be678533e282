import { dateTime, isoTimesIn } from '../lib/format.js';

/**
 * Engine text (a rule's "why not fired" reason) with its ISO times shown in local time, as the rest of the UI shows
 * times; the exact time stays in the element (and its tooltip). The engine writes ISO so that the CLI and traces
 * stay unambiguous; which zone a person reads is the UI's business.
 */
export function WithLocalTimes({ text }: { text: string }) {
  return (
    <>
      {isoTimesIn(text).map((p, i) =>
        p.iso ? (
          <time key={i} dateTime={p.iso} title={p.iso}>
            {dateTime(p.iso)}
          </time>
        ) : (
          p.text
        ),
      )}
    </>
  );
}
