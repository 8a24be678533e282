import { useEffect, useState } from 'react';
import type { VersionDiff, VersionInfo } from '../../../core/protocol.js';
import { dateTime } from '../lib/format.js';
import { useClient, useConnection, useQuery, useMonitors } from '../state.js';
import { ErrorBox } from './ErrorBox.js';

/** Where a web change links to (`fields.diffLink`): History with one watch's versions open, on two versions. */
export function parseVersionsLink(hash: string): { monitorId: string; from: number | null; to: number | null } | null {
  const q = hash.indexOf('?');
  if (q < 0) return null;
  const params = new URLSearchParams(hash.slice(q + 1));
  const monitorId = params.get('versions');
  if (!monitorId) return null;
  const id = (name: string) => {
    const n = Number(params.get(name));
    return Number.isInteger(n) && n > 0 ? n : null;
  };
  return { monitorId, from: id('from'), to: id('to') };
}

/** The address of one watch's versions on two of them (the same shape as the engine's `diffLink`). */
export function versionsLink(monitorId: string, from: number | null, to: number | null): string {
  return `#/history?versions=${encodeURIComponent(monitorId)}${from !== null ? `&from=${from}` : ''}${to !== null ? `&to=${to}` : ''}`;
}

const versionLabel = (v: VersionInfo) => `${dateTime(v.at)} · ${v.size.toLocaleString()} characters`;

/**
 * The versions a watch kept and the difference between any two, in lines or words, inline or side by side.
 * The watched text is shown as text (React escapes it): nothing of a page is ever parsed as HTML here.
 * Which two versions are shown is the caller's (History keeps them in the address, so reload, Back and a shared link
 * keep them): a choice here is handed to `onChoose` with the pair as it will be shown.
 */
export function VersionsPanel({
  monitorId,
  from = null,
  to,
  onChoose,
  onClose,
}: {
  monitorId: string;
  from?: number | null;
  to: number | null;
  onChoose(from: number | null, to: number | null): void;
  onClose(): void;
}) {
  const client = useClient();
  const { status } = useConnection();
  const monitors = useMonitors();
  const list = useQuery('versions.list', { monitorId, limit: 1000 }, monitorId);
  const versions = list.data?.versions ?? [];
  const [mode, setMode] = useState<'lines' | 'words'>('lines');
  const [layout, setLayout] = useState<'side' | 'inline'>('side');
  const [diff, setDiff] = useState<VersionDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = monitors.data?.find((m) => m.id === monitorId)?.name ?? monitorId;

  // Newest first: with no version named, the newest is shown against the one before it.
  const toId = to ?? versions[0]?.id ?? null;
  const older = versions.filter((v) => toId !== null && v.id < toId);
  const fromId = olderOf(versions, toId, from);
  // A newer version chosen keeps the older one when it is still older, else takes the one just before.
  const chooseTo = (next: number) => onChoose(olderOf(versions, next, fromId), next);

  useEffect(() => {
    if (status !== 'open' || toId === null) return;
    let live = true;
    client.request('versions.diff', { to: toId, ...(fromId !== null ? { from: fromId } : {}), mode }).then(
      (d) => {
        if (!live) return;
        setDiff(d);
        setError(d ? null : 'This version is no longer kept (versions past the watch’s limits are dropped).');
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [client, status, toId, fromId, mode]);

  const first = diff !== null && fromId === null;
  return (
    <section className="versions-panel" aria-label={`Versions of ${name}`}>
      <div className="page-head">
        <h2>Versions of {name}</h2>
        <button className="icon-button" aria-label="Close versions" onClick={onClose}>
          ×
        </button>
      </div>
      <ErrorBox message={list.error?.message ?? error} />
      {list.data && !versions.length ? <div className="empty">No versions kept yet: the first check records one.</div> : null}
      {versions.length ? (
        <div className="versions-controls">
          <label>
            From{' '}
            <select aria-label="Older version" value={fromId ?? ''} onChange={(e) => onChoose(Number(e.target.value), toId)} disabled={!older.length}>
              {older.length ? null : <option value="">(none older)</option>}
              {older.map((v) => (
                <option key={v.id} value={v.id}>
                  {versionLabel(v)}
                </option>
              ))}
            </select>
          </label>
          <label>
            To{' '}
            <select aria-label="Newer version" value={toId ?? ''} onChange={(e) => chooseTo(Number(e.target.value))}>
              {versions.map((v) => (
                <option key={v.id} value={v.id}>
                  {versionLabel(v)}
                </option>
              ))}
            </select>
          </label>
          <div role="radiogroup" aria-label="Compare" className="segmented">
            {(['lines', 'words'] as const).map((m) => (
              <button key={m} role="radio" aria-checked={mode === m} className={mode === m ? 'on' : ''} onClick={() => setMode(m)}>
                {m === 'lines' ? 'Lines' : 'Words'}
              </button>
            ))}
          </div>
          <div role="radiogroup" aria-label="Layout" className="segmented">
            {(['side', 'inline'] as const).map((l) => (
              <button key={l} role="radio" aria-checked={layout === l} className={layout === l ? 'on' : ''} onClick={() => setLayout(l)}>
                {l === 'side' ? 'Side by side' : 'Inline'}
              </button>
            ))}
          </div>
          <span className="muted">{versions.length} kept</span>
        </div>
      ) : null}
      {diff ? (
        <>
          <p className="diff-summary" aria-live="polite">
            {first ? 'The first version kept: nothing older to compare with.' : <>{diff.summary}</>}
          </p>
          {diff.to.hasScreenshot ? <VersionScreenshot key={diff.to.id} version={diff.to} /> : null}
          {layout === 'inline' || first ? (
            <pre className="diff diff-inline" aria-label="Changes">
              <DiffParts parts={diff.parts} show="both" />
            </pre>
          ) : (
            <div className="diff-side">
              <div>
                <h3>Before · {dateTime(diff.from.at)}</h3>
                <pre className="diff" aria-label="Before">
                  <DiffParts parts={diff.parts} show="removed" />
                </pre>
              </div>
              <div>
                <h3>After · {dateTime(diff.to.at)}</h3>
                <pre className="diff" aria-label="After">
                  <DiffParts parts={diff.parts} show="added" />
                </pre>
              </div>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}

/** The older version shown against `to` (newest first in `versions`): `wanted` if it is older, else the one before. */
function olderOf(versions: readonly VersionInfo[], to: number | null, wanted: number | null): number | null {
  const older = versions.filter((v) => to !== null && v.id < to);
  return wanted !== null && older.some((v) => v.id === wanted) ? wanted : (older[0]?.id ?? null);
}

/** The parts as text: added ones in <ins>, removed ones in <del>; one side leaves out what belongs to the other. */
function DiffParts({ parts, show }: { parts: VersionDiff['parts']; show: 'both' | 'added' | 'removed' }) {
  return (
    <>
      {parts.map((p, i) => {
        if (p.added) return show === 'removed' ? null : <ins key={i}>{p.value}</ins>;
        if (p.removed) return show === 'added' ? null : <del key={i}>{p.value}</del>;
        return <span key={i}>{p.value}</span>;
      })}
    </>
  );
}

/** A rendered page's screenshot, kept with its version; fetched only when opened (it can be a few hundred KB). */
function VersionScreenshot({ version }: { version: VersionInfo }) {
  const client = useClient();
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <details
      className="version-screenshot"
      onToggle={(e) => {
        if (!(e.currentTarget as HTMLDetailsElement).open || src) return;
        client.request('versions.get', { id: version.id }).then(
          (v) => (v?.screenshot ? setSrc(`data:image/png;base64,${v.screenshot}`) : setError('No screenshot kept for this version.')),
          (err: Error) => setError(err.message),
        );
      }}
    >
      <summary>Screenshot of the page at {dateTime(version.at)}</summary>
      <ErrorBox message={error} />
      {src ? <img src={src} alt={`The rendered page at ${dateTime(version.at)}`} /> : null}
    </details>
  );
}
