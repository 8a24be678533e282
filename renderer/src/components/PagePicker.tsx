import { useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { PagePick, PickElement } from '../../../core/protocol.js';
import { RequestError } from '../transport/client.js';
import { useClient } from '../state.js';
import { ErrorBox } from './ErrorBox.js';

interface Props {
  /** The monitor type whose form this is (it declares a picker). */
  type: string;
  /** The form's config as it stands (unsaved): the engine renders the page it names, with its steps. */
  config(): Record<string, unknown>;
  /** "Use this": the selector for the form's field. */
  onUse(selector: string): void;
  /** A problem at one of the form's fields (the address); '' clears it. */
  onFieldError(field: string, message: string): void;
}

type Phase = { kind: 'idle' } | { kind: 'loading' } | { kind: 'failed'; message: string } | { kind: 'ready'; pick: PagePick };

/**
 * "Pick on the page": the engine renders the page and sends a picture of it with the boxes of its elements; the
 * pointer highlights the element under it, a click picks it, ↑/↓ widen to the containing element or narrow to the
 * one inside, and "Use this" puts its selector in the form. The page itself never runs here: it is an image, and
 * its texts are shown as text.
 */
export function PagePicker({ type, config, onUse, onFieldError }: Props) {
  const client = useClient();
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [hover, setHover] = useState<number | null>(null);
  const [picked, setPicked] = useState<number | null>(null);
  const point = useRef<{ x: number; y: number } | null>(null);
  const stage = useRef<HTMLDivElement>(null);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  const start = async () => {
    setPhase({ kind: 'loading' });
    setHover(null);
    setPicked(null);
    onFieldError('url', '');
    try {
      const pick = await client.request('monitors.pick', { type, config: config() });
      if (!alive.current) return;
      setPhase({ kind: 'ready', pick });
      setTimeout(() => stage.current?.focus(), 0);
    } catch (err) {
      if (!alive.current) return;
      const e = err as Error;
      const issue = err instanceof RequestError ? err.issues[0] : undefined;
      if (issue) onFieldError(issue.path.replace(/^\$\./, '').split(/[.[]/)[0] ?? '', issue.message);
      setPhase({ kind: 'failed', message: e.message });
    }
  };

  if (phase.kind === 'idle' || phase.kind === 'loading' || phase.kind === 'failed')
    return (
      <div className="page-picker">
        <button type="button" onClick={() => void start()} disabled={phase.kind === 'loading'}>
          {phase.kind === 'loading' ? 'Opening the page…' : 'Pick on the page'}
        </button>
        <span className="muted"> Load the page in a browser and click the part to watch.</span>
        {phase.kind === 'failed' ? <ErrorBox message={`Could not open the page for picking: ${phase.message}`} /> : null}
      </div>
    );

  const { pick } = phase;
  const els = pick.elements;
  const at = (e: MouseEvent<HTMLDivElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * pick.width, y: ((e.clientY - r.top) / r.height) * pick.height };
  };
  const contains = (el: PickElement, p: { x: number; y: number }) => p.x >= el.x && p.x <= el.x + el.w && p.y >= el.y && p.y <= el.y + el.h;
  /** The smallest element under the point: what the pointer is on, not the page around it. */
  const under = (p: { x: number; y: number }) => {
    let best: number | null = null;
    for (let i = 0; i < els.length; i++) if (contains(els[i]!, p) && (best === null || els[i]!.w * els[i]!.h <= els[best]!.w * els[best]!.h)) best = i;
    return best;
  };
  const widen = () => {
    if (picked !== null && els[picked]!.parent >= 0) setPicked(els[picked]!.parent);
  };
  const narrow = () => {
    if (picked === null) return;
    const children = els.map((e, i) => ({ e, i })).filter(({ e }) => e.parent === picked);
    const p = point.current;
    const next = (p && children.find(({ e }) => contains(e, p))) || children[0];
    if (next) setPicked(next.i);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowUp') widen();
    else if (e.key === 'ArrowDown') narrow();
    else return;
    e.preventDefault();
  };
  const box = (el: PickElement, className: string) => (
    <div
      className={className}
      style={{ left: `${(el.x / pick.width) * 100}%`, top: `${(el.y / pick.height) * 100}%`, width: `${(el.w / pick.width) * 100}%`, height: `${(el.h / pick.height) * 100}%` }}
    />
  );
  const chosen = picked !== null ? els[picked]! : null;

  return (
    <section className="page-picker open" aria-label="Pick on the page">
      <div className="page-picker-head">
        <p>
          Click the part of <strong>{pick.url}</strong> to watch. <kbd>↑</kbd> widens to what contains it, <kbd>↓</kbd> narrows to what it contains.
        </p>
        <button type="button" onClick={() => void start()}>
          Reload
        </button>
        <button type="button" onClick={() => setPhase({ kind: 'idle' })}>
          Close
        </button>
      </div>
      {pick.pageHeight > pick.height ? <p className="muted">Only the top {pick.height.toLocaleString()} pixels of this {pick.pageHeight.toLocaleString()}-pixel page are shown.</p> : null}
      {!pick.complete ? <p className="muted">The page has more elements than the picker lists; the first {els.length.toLocaleString()} can be picked.</p> : null}
      {pick.blocked.length ? (
        <p className="muted">
          Refused {pick.blocked.length} request{pick.blocked.length === 1 ? '' : 's'} of the page to private or non-web addresses (e.g. <code>{pick.blocked[0]}</code>).
        </p>
      ) : null}
      {els.length === 0 ? <p className="error">Nothing on this page shows text to watch.</p> : null}
      <div className="page-picker-scroll">
        <div
          ref={stage}
          className="page-picker-stage"
          tabIndex={0}
          role="application"
          aria-label="Screenshot of the page: click an element to pick it"
          onMouseMove={(e) => setHover(under(at(e)))}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const p = at(e);
            point.current = p;
            setPicked(under(p));
          }}
          onKeyDown={onKey}
        >
          <img src={`data:image/jpeg;base64,${pick.screenshot}`} alt={`The page ${pick.url} as rendered`} draggable={false} />
          {hover !== null && hover !== picked ? box(els[hover]!, 'pick-box hover') : null}
          {chosen ? box(chosen, 'pick-box picked') : null}
        </div>
      </div>
      {chosen ? (
        <div className="page-picker-choice" aria-label="Picked element">
          <div className="actions">
            <code className="pick-selector" aria-label="Selector">
              {chosen.selector}
            </code>
            <button type="button" onClick={widen} disabled={chosen.parent < 0} title="The element that contains this one (↑)">
              Wider
            </button>
            <button type="button" onClick={narrow} disabled={!els.some((e) => e.parent === picked)} title="An element inside this one (↓)">
              Narrower
            </button>
            <button
              type="button"
              className="primary"
              onClick={() => {
                onUse(chosen.selector);
                setPhase({ kind: 'idle' });
              }}
            >
              Use this
            </button>
          </div>
          <pre className="pick-text" aria-label="Text it matches now">
            {chosen.text}
          </pre>
        </div>
      ) : (
        <p className="muted">Nothing picked yet.</p>
      )}
    </section>
  );
}
