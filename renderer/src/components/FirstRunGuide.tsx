/**
 * The empty feed's first-run guide: what a newcomer can watch in one step each (a site's feed found from its
 * address, feeds from another reader's OPML file, the weather for a place, a mail account, a log file), and what
 * each will do. Shown while no monitor exists; the forms behind "more" are the generated monitor forms.
 */
import { useState } from 'react';
import { useClient, useMonitors } from '../state.js';
import { RequestError } from '../transport/client.js';
import { opmlForImport } from '../lib/opmlFile.js';

type Found = { url: string; title: string; items: number; watchedBy: string | null };

/** Open the Monitors view with the add form of one type (MonitorsView reads `?add=`). */
function openAddForm(type: string): void {
  location.hash = `#/monitors?add=${encodeURIComponent(type)}`;
}

export function FirstRunGuide() {
  const client = useClient();
  const monitors = useMonitors();
  const [site, setSite] = useState('');
  const [siteError, setSiteError] = useState<string | null>(null);
  const [found, setFound] = useState<Found[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string[]>([]);

  if (!monitors.data || (monitors.data.length > 0 && !done.length)) return null;

  const find = async () => {
    setBusy(true);
    setSiteError(null);
    setFound(null);
    try {
      setFound((await client.request('monitors.discoverFeed', { url: site })).feeds);
    } catch (e) {
      setSiteError(e instanceof RequestError && e.issues[0] ? e.issues[0].message : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const watch = async (f: Found) => {
    try {
      const m = await client.request('monitors.add', { type: 'rss', name: f.title, config: { url: f.url } });
      setDone((d) => [...d, `Watching “${m.name}”: ${f.items} item${f.items === 1 ? '' : 's'} remembered, new ones will appear here.`]);
      setFound(null);
      setSite('');
    } catch (e) {
      setSiteError((e as Error).message);
    }
  };

  const importOpml = async (file: File) => {
    try {
      const r = await client.request('monitors.importOpml', { opml: await opmlForImport(file) });
      setDone((d) => [...d, `Imported ${r.added.length} feed${r.added.length === 1 ? '' : 's'}${r.skipped.length ? `, ${r.skipped.length} already watched` : ''} from ${file.name}; new items will appear here.`]);
    } catch (e) {
      setSiteError((e as Error).message);
    }
  };

  return (
    <section className="card first-run" aria-label="Get started">
      <h2>Start watching something</h2>
      <p className="muted">Each of these adds a monitor; new things it finds appear in this feed, and the built-in rules notify you.</p>
      {done.length ? (
        <ul className="first-run-done" aria-label="Added">
          {done.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      ) : null}
      <form
        className="first-run-row"
        onSubmit={(e) => {
          e.preventDefault();
          void find();
        }}
      >
        <label htmlFor="first-run-site">
          <strong>A website or blog</strong> <span className="muted">— its address; Panoptes finds the feed</span>
        </label>
        <div className="first-run-inline">
          <input
            id="first-run-site"
            value={site}
            placeholder="example.com/blog"
            onChange={(e) => setSite(e.target.value)}
            aria-invalid={siteError ? true : undefined}
            aria-describedby={siteError ? 'first-run-site-err' : undefined}
          />
          <button type="submit" className="primary" disabled={busy || !site.trim()}>
            {busy ? 'Looking…' : 'Find feed'}
          </button>
        </div>
        {siteError ? (
          <div className="error" id="first-run-site-err" role="alert">
            {siteError}
          </div>
        ) : null}
        {found ? (
          <ul className="first-run-found" aria-label="Feeds found">
            {found.map((f) => (
              <li key={f.url}>
                <span>
                  <strong>{f.title}</strong> <span className="muted">{f.url} · {f.items} items now</span>
                  {f.watchedBy ? <span className="warn-text"> · already watched as “{f.watchedBy}”: adding it again doubles its events and notifications</span> : null}
                </span>
                <button type="button" onClick={() => void watch(f)}>
                  {f.watchedBy ? 'Watch again' : 'Watch'}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </form>
      <div className="first-run-row">
        <div>
          <strong>Feeds from another reader</strong> <span className="muted">— an OPML file exported by it</span>
        </div>
        <div className="first-run-inline">
          <input type="file" accept=".opml,.xml,text/xml,application/xml" aria-label="OPML file to import" onChange={(e) => e.target.files?.[0] && void importOpml(e.target.files[0])} />
        </div>
      </div>
      <div className="first-run-row first-run-more">
        <button type="button" onClick={() => openAddForm('weather')}>
          Weather for a place
        </button>
        <span className="muted">rain within the hour, severe weather, the temperature chart</span>
        <button type="button" onClick={() => openAddForm('mail')}>
          A mail account
        </button>
        <span className="muted">new mail in chosen folders (IMAP)</span>
        <button type="button" onClick={() => openAddForm('log')}>
          A log file
        </button>
        <span className="muted">lines matching a pattern, as they are written</span>
      </div>
    </section>
  );
}
