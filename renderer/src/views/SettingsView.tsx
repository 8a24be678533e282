import { useEffect, useState } from 'react';
import type { Settings } from '../../../core/protocol.js';
import { useToasts } from '../components/Toasts.js';
import { isDesktop } from '../transport/connect.js';
import { useClient, usePush, useQuery } from '../state.js';
import { RequestError } from '../transport/client.js';
import { applyTheme } from '../theme.js';
import { DesktopSettings } from '../components/DesktopSettings.js';
import { ForwardingSettings } from '../forwarding/ForwardingSettings.js';
import { ChannelSettings } from '../components/ChannelSettings.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { NotificationSettingsFields } from '../components/NotificationSettings.js';

export function SettingsView() {
  const client = useClient();
  const toasts = useToasts();
  const settings = useQuery('settings.get', {});
  // A change to config.json made outside the app is shown, so a save here starts from it rather than undoing it.
  usePush('config', (c) => {
    if (c.problem === null) settings.reload();
  });
  const hello = useQuery('hello', {});
  const [draft, setDraft] = useState<Settings | null>(null);
  const [holdText, setHoldText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [permission, setPermission] = useState(() => ('Notification' in window ? Notification.permission : 'unsupported'));

  useEffect(() => {
    if (settings.data) {
      setDraft(settings.data);
      setHoldText(settings.data.notifications.holdDuringFlags.join(', '));
    }
  }, [settings.data]);

  if (!draft) return <div className="page">{settings.error ? <div className="error-box">{settings.error.message}</div> : 'Loading…'}</div>;

  const save = async () => {
    const next: Settings = {
      ...draft,
      notifications: { ...draft.notifications, holdDuringFlags: holdText.split(/[\s,]+/).filter(Boolean) },
    };
    try {
      const saved = await client.request('settings.update', next);
      settings.set(saved);
      applyTheme(saved.theme);
      setError(null);
      toasts.show({ title: 'Settings saved', tone: 'info' });
    } catch (e) {
      setError(e instanceof RequestError && e.issues.length ? e.issues.map((i) => `${i.path}: ${i.message}`).join('; ') : (e as Error).message);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      <form
        className="card form"
        aria-label="Settings"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>Notifications</legend>
          <div className="field">
            <label htmlFor="hold-flags">Hold notifications while these flags are set</label>
            <input id="hold-flags" value={holdText} placeholder="dnd, focus" onChange={(e) => setHoldText(e.target.value)} />
          </div>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.notifications.allowHighPriorityThrough}
              onChange={(e) => setDraft({ ...draft, notifications: { ...draft.notifications, allowHighPriorityThrough: e.target.checked } })}
            />
            Let high and urgent notifications through holds and quiet hours
          </label>
          <NotificationSettingsFields value={draft.notifications} onChange={(notifications) => setDraft({ ...draft, notifications })} />
          {!isDesktop() ? (
            <div className="field">
              <span>Browser notifications: {permission === 'granted' ? 'allowed' : permission === 'denied' ? 'blocked in the browser settings' : permission === 'unsupported' ? 'not supported here' : 'not yet allowed'}</span>
              {permission === 'default' ? (
                <button type="button" onClick={() => void Notification.requestPermission().then(setPermission)}>
                  Allow browser notifications
                </button>
              ) : null}
            </div>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>Data</legend>
          <div className="field">
            <label htmlFor="retention">Keep events for (days)</label>
            <input id="retention" type="number" min={1} value={draft.retentionDays} onChange={(e) => setDraft({ ...draft, retentionDays: Number(e.target.value) })} />
            <div className="help">Per-monitor retention is set on each monitor.</div>
          </div>
          <div className="field">
            <label htmlFor="trace-limit">Traces kept per rule</label>
            <input id="trace-limit" type="number" min={0} value={draft.traceLimitPerRule} onChange={(e) => setDraft({ ...draft, traceLimitPerRule: Number(e.target.value) })} />
          </div>
          <div className="field">
            <span>Data folder</span>
            <code className="path">{hello.data?.dataDir ?? '…'}</code>
          </div>
        </fieldset>
        <fieldset>
          <legend>Actions</legend>
          <label className="check">
            <input type="checkbox" checked={draft.commandsEnabled} onChange={(e) => setDraft({ ...draft, commandsEnabled: e.target.checked })} />
            Allow rules to run commands (the <code>command</code> action)
          </label>
        </fieldset>
        <fieldset>
          <legend>Appearance</legend>
          <div className="field">
            <label htmlFor="theme">Theme</label>
            <select id="theme" value={draft.theme} onChange={(e) => setDraft({ ...draft, theme: e.target.value as Settings['theme'] })}>
              <option value="system">Follow the system</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </div>
        </fieldset>
        <ErrorBox message={error} />
        <div className="actions">
          <button type="submit" className="primary">
            Save settings
          </button>
        </div>
      </form>
      <ChannelSettings />
      <DesktopSettings />
      <ForwardingSettings />
    </div>
  );
}
