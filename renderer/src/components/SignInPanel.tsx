import { useEffect, useRef, useState } from 'react';
import type { MonitorInfo, MonitorTypeInfo, SignInStart, SignInState } from '../../../core/protocol.js';
import { RequestError } from '../transport/client.js';
import { useClient, usePush } from '../state.js';

interface Props {
  type: MonitorTypeInfo;
  /** The monitor being edited (its sign-in is replaced at once), or null in the add form. */
  monitor: MonitorInfo | null;
  /** The form's config as it stands (unsaved): the engine reads the provider and client id from it. */
  config(): Record<string, unknown>;
  /** A finished sign-in of the add form, for the save to hand to the engine (null: none or it failed). */
  onSignInId(id: string | null): void;
  /** A problem at one of the form's fields (the client id, the tenant…); '' clears what an earlier try said there. */
  onFieldError(field: string, message: string): void;
}

type Phase = { kind: 'idle' } | { kind: 'signedOut'; message: string } | { kind: 'waiting'; start: SignInStart } | { kind: 'done'; state: SignInState } | { kind: 'failed'; message: string };

/**
 * "Sign in with Google / Microsoft" for a monitor type that declares OAuth. The engine runs the sign-in and keeps the
 * grant; this panel only opens the provider's page (or shows the device code), says how it ended and offers "Sign
 * out". No token ever reaches the page.
 */
export function SignInPanel({ type, monitor, config, onSignInId, onFieldError }: Props) {
  const client = useClient();
  const oauth = type.oauth!;
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [busy, setBusy] = useState(false);
  const [signedIn, setSignedIn] = useState(monitor?.signedIn ?? null);
  const pendingId = phase.kind === 'waiting' ? phase.start.signInId : null;
  const addForm = monitor === null;
  const cancelOnLeave = useRef<string | null>(null);
  cancelOnLeave.current = addForm ? pendingId : null;

  const providerValue = oauth.providerField ? String(config()[oauth.providerField] ?? '') : '';
  const providerName = oauth.providerNames[providerValue] ?? 'your provider';

  const ended = (s: SignInState) => {
    if (s.status === 'pending') return;
    if (s.status === 'done') {
      setPhase({ kind: 'done', state: s });
      setSignedIn({ account: s.account, provider: s.provider, problem: null, signOutNote: s.signOutNote ?? '' });
      onSignInId(addForm ? s.signInId : null);
    } else {
      setPhase({ kind: 'failed', message: s.message ?? 'not signed in' });
      if (s.field) onFieldError(s.field, s.message ?? 'not signed in');
    }
  };
  usePush('signIn', (s) => {
    if (s.signInId === pendingId) ended(s);
  });
  // The push can be missed across a reconnect: ask now and then while waiting.
  useEffect(() => {
    if (!pendingId) return;
    const timer = setInterval(() => {
      client.request('signIn.status', { signInId: pendingId }).then(ended, () => {});
    }, 5_000);
    return () => clearInterval(timer);
  }, [pendingId]);
  // An add form closed during a sign-in: the grant would have nowhere to go.
  useEffect(() => () => {
    if (cancelOnLeave.current) void client.request('signIn.cancel', { signInId: cancelOnLeave.current }).catch(() => {});
  }, []);

  const start = async (flow: 'browser' | 'device') => {
    setBusy(true);
    onSignInId(null);
    for (const f of oauth.fields) onFieldError(f, '');
    if (pendingId) await client.request('signIn.cancel', { signInId: pendingId }).catch(() => {});
    try {
      const s = await client.request('signIn.start', { type: type.type, config: config(), flow, ...(monitor ? { id: monitor.id } : {}) });
      setPhase({ kind: 'waiting', start: s });
      // Opened by the engine's choice of address; in the desktop app the shell hands it to the system browser.
      if (s.authorizationUrl) window.open(s.authorizationUrl, '_blank', 'noopener,noreferrer');
    } catch (e) {
      const err = e as Error;
      if (err instanceof RequestError && err.issues.length) for (const i of err.issues) onFieldError(i.path.replace(/^\$\./, ''), i.message);
      setPhase({ kind: 'failed', message: err.message });
    } finally {
      setBusy(false);
    }
  };

  const signOut = async () => {
    if (!monitor) return;
    setBusy(true);
    try {
      const m = await client.request('signIn.signOut', { id: monitor.id });
      setSignedIn(m.signedIn ?? null);
      setPhase({ kind: 'signedOut', message: m.signedOut.message });
    } catch (e) {
      setPhase({ kind: 'failed', message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="field sign-in" aria-label="Account sign-in">
      <div className="sign-in-status" role="status">
        {signedIn ? (
          signedIn.problem ? (
            <span className="error-text">Sign in again: {signedIn.problem.replace(/^sign in again:\s*/i, '')}</span>
          ) : (
            <span>
              Signed in{signedIn.account ? <> as <strong>{signedIn.account}</strong></> : null} with {signedIn.provider}
            </span>
          )
        ) : (
          <span className="muted">Not signed in</span>
        )}
      </div>
      <div className="actions">
        <button type="button" className="primary" disabled={busy} onClick={() => void start('browser')}>
          {signedIn ? `Sign in with ${providerName} again` : `Sign in with ${providerName}`}
        </button>
        <button type="button" disabled={busy} onClick={() => void start('device')} title="For a machine without a browser: type a code on another device">
          Sign in with a code
        </button>
        {monitor && signedIn ? (
          <button type="button" disabled={busy} onClick={() => void signOut()}>
            Sign out
          </button>
        ) : null}
      </div>
      {monitor && signedIn?.signOutNote ? <p className="help sign-out-note">{capitalize(signedIn.signOutNote)}.</p> : null}
      {phase.kind === 'signedOut' ? (
        <p className="sign-out-done" role="status">
          {capitalize(phase.message)}.
        </p>
      ) : null}
      {phase.kind === 'waiting' ? (
        <div className="sign-in-waiting" role="status" aria-live="polite">
          {phase.start.flow === 'browser' ? (
            <p>
              Waiting for you to sign in at {phase.start.provider} in your browser…{' '}
              <a href={phase.start.authorizationUrl} target="_blank" rel="noopener noreferrer">
                Open the sign-in page
              </a>
            </p>
          ) : (
            <p>
              On any device, open{' '}
              <a href={phase.start.verificationUriComplete ?? phase.start.verificationUri} target="_blank" rel="noopener noreferrer">
                {phase.start.verificationUri}
              </a>{' '}
              and enter the code <strong className="mono">{phase.start.userCode}</strong>
            </p>
          )}
          <button type="button" onClick={() => void client.request('signIn.cancel', { signInId: phase.start.signInId }).catch(() => {})}>
            Cancel sign-in
          </button>
        </div>
      ) : null}
      {phase.kind === 'done' ? (
        <p className="sign-in-done" role="status">
          Signed in{phase.state.account ? ` as ${phase.state.account}` : ''}.{addForm ? ' Add the monitor to keep this sign-in.' : ' The monitor uses it now.'}
        </p>
      ) : null}
      {phase.kind === 'failed' ? (
        <div className="error" role="alert">
          {phase.message}
        </div>
      ) : null}
      <div className="help">
        Panoptes never sees your password: you sign in on {providerName === 'your provider' ? "your provider's" : `${providerName}'s`} own page, and only the permission it grants is kept, in the secret store — never in the config file.
      </div>
    </section>
  );
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
