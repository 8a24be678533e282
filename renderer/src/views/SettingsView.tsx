import { useEffect, useState } from 'react';
import type { Settings } from '../../../core/protocol.js';
import { useToasts } from '../components/Toasts.js';
import { isDesktop } from '../transport/connect.js';
import { useClient, usePush, useQuery } from '../state.js';
import { RequestError } from '../transport/client.js';
import { applyTheme } from '../theme.js';
import { DesktopSettings } from '../components/DesktopSettings.js';
import { ForwardingSettings } from '../forwarding/ForwardingSettings.js';
import { DeployPanel } from '../fleet/DeployPanel.js';
import { ChannelSettings } from '../components/ChannelSettings.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { NotificationSettingsFields } from '../components/NotificationSettings.js';

/** The fields of this form the engine's issues can name (by JSON path under the settings). */
const FIELD_LABELS: Record<string, string> = {
  'notifications.holdDuringFlags': 'hold-flags',
  retentionDays: 'retention',
  traceLimitPerRule: 'trace-limit',
};

/** The error under a field, tied to its input for screen readers (`aria-describedby` = `<id>-err`). */
function FieldError({ id, errors, field }: { id: string; errors: Record<string, string>; field: string }) {
  return errors[field] ? (
    <div className="error" id={`${id}-err`} role="alert">
      {errors[field]}
    </div>
  ) : null;
}

const invalid = (errors: Record<string, string>, field: string, id: string) =>
  errors[field] ? ({ 'aria-invalid': true, 'aria-describedby': `${id}-err` } as const) : {};

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
  /** The engine's refusals by the field they name (its JSON path); what names no field here goes to the box. */
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [permission, setPermission] = useState(() => ('Notification' in window ? Notification.permission : 'unsupported'));

  useEffect(() => {
    if (settings.data) {
      setDraft(settings.data);
      setHoldText(settings.data.notifications.holdDuringFlags.join(', '));
    }
  }, [settings.data]);

  if (!draft) return <div className="page">{settings.error ? <div className="error-box">{settings.error.message}</div> : 'Loading…'}</div>;

  // The theme is seen at once and kept at once (no Save): only the theme is sent, on the settings as saved, so other
  // fields being edited stay unsaved drafts.
  const chooseTheme = async (theme: Settings['theme']) => {
    setDraft({ ...draft, theme });
    applyTheme(theme);
    if (!settings.data) return;
    try {
      await client.request('settings.update', { ...settings.data, theme });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const save = async () => {
    const next: Settings = {
      ...draft,
      // Names are separated by commas: "Bad Flag!" is one (bad) name to refuse, not two flags to save.
      notifications: { ...draft.notifications, holdDuringFlags: holdText.split(',').map((s) => s.trim()).filter(Boolean) },
    };
    try {
      const saved = await client.request('settings.update', next);
      settings.set(saved);
      applyTheme(saved.theme);
      setError(null);
      setFieldErrors({});
      toasts.show({ title: 'Settings saved', tone: 'info' });
    } catch (e) {
      if (!(e instanceof RequestError && e.issues.length)) {
        setFieldErrors({});
        setError((e as Error).message);
        return;
      }
      const byField: Record<string, string> = {};
      const rest: string[] = [];
      for (const i of e.issues) {
        const field = Object.keys(FIELD_LABELS).find((f) => i.path === `$.${f}` || i.path.startsWith(`$.${f}[`) || i.path.startsWith(`$.${f}.`));
        if (field) byField[field] ??= i.message;
        else rest.push(`${i.path}: ${i.message}`);
      }
      setFieldErrors(byField);
      setError(rest.join('; ') || null);
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
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>Notifications</legend>
          <div className="field">
            <label htmlFor="hold-flags">Hold notifications while these flags are set</label>
            <input id="hold-flags" value={holdText} placeholder="dnd, focus" {...invalid(fieldErrors, 'notifications.holdDuringFlags', 'hold-flags')} onChange={(e) => setHoldText(e.target.value)} />
            <FieldError id="hold-flags" errors={fieldErrors} field="notifications.holdDuringFlags" />
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
            <input id="retention" type="number" min={1} value={draft.retentionDays} {...invalid(fieldErrors, 'retentionDays', 'retention')} onChange={(e) => setDraft({ ...draft, retentionDays: Number(e.target.value) })} />
            <div className="help">Per-monitor retention is set on each monitor.</div>
            <FieldError id="retention" errors={fieldErrors} field="retentionDays" />
          </div>
          <div className="field">
            <label htmlFor="trace-limit">Traces kept per rule</label>
            <input id="trace-limit" type="number" min={1} max={10000} value={draft.traceLimitPerRule} {...invalid(fieldErrors, 'traceLimitPerRule', 'trace-limit')} onChange={(e) => setDraft({ ...draft, traceLimitPerRule: Number(e.target.value) })} />
            <FieldError id="trace-limit" errors={fieldErrors} field="traceLimitPerRule" />
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
            <select id="theme" value={draft.theme} onChange={(e) => void chooseTheme(e.target.value as Settings['theme'])}>
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
      <DeployPanel />
    </div>
  );
}
