import { useState } from 'react';
import type { ValidationIssue } from '../../../core/protocol.js';
import type { BrokerRow, TlsDraft } from './model.js';
import { FieldIssues } from './FieldIssues.js';

function PasswordInput({ id, row, onChange }: { id: string; row: BrokerRow; onChange(password: string): void }) {
  return (
    <input
      id={id}
      type="password"
      autoComplete="new-password"
      value={row.password}
      placeholder={row.passwordStored ? 'stored — type to replace' : 'none'}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

/**
 * A broker's TLS files, folded away until used. Paths are on the machine the engine runs on (this one for the
 * desktop app, the agent's machine for a headless agent); the engine checks them when the form is saved.
 */
function TlsFields(props: { id: string; name: string; whose: string; tls: TlsDraft; onChange(t: TlsDraft): void; issues: ValidationIssue[]; at: string }) {
  const { id, name, whose, tls, onChange, issues, at } = props;
  const inUse = Boolean(tls.ca || tls.cert || tls.key || !tls.verify || issues.some((i) => i.path.startsWith(`${at}.tls`)));
  const [open, setOpen] = useState(inUse);
  const file = (field: 'ca' | 'cert' | 'key', label: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={`${id}-${field}`}>
        {name} {label}
      </label>
      <input id={`${id}-${field}`} className="mono" spellCheck={false} value={tls[field]} placeholder={placeholder} onChange={(e) => onChange({ ...tls, [field]: e.target.value })} />
      <FieldIssues issues={issues} at={`${at}.tls.${field}`} />
    </div>
  );
  return (
    <details className="tls" open={open || inUse} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{name} TLS (mqtts:// and wss://): private CA, client certificate</summary>
      {file('ca', 'CA file', "/etc/panoptes/ca.pem (empty: the system's CAs)")}
      {file('cert', 'client certificate', '/etc/panoptes/client.pem (only if the broker asks for one)')}
      {file('key', 'client key', '/etc/panoptes/client.key')}
      <label className="check">
        <input type="checkbox" checked={tls.verify} onChange={(e) => onChange({ ...tls, verify: e.target.checked })} />
        Check {whose} certificate
      </label>
      {tls.verify ? null : <div className="help warn">Not checked: anyone between this machine and the broker can read and change what is sent.</div>}
      <FieldIssues issues={issues} at={`${at}.tls`} exact />
    </details>
  );
}

/**
 * One broker's address, password and TLS files, labelled with `name` ("Broker", "Broker 2", "Action broker"):
 * the same fields wherever a broker is configured.
 */
export function BrokerFields(props: { id: string; name: string; whose: string; placeholder: string; row: BrokerRow; onChange(patch: Partial<BrokerRow>): void; issues: ValidationIssue[]; at: string }) {
  const { id, name, whose, placeholder, row, onChange, issues, at } = props;
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-url`}>{name} address</label>
        <input id={`${id}-url`} value={row.url} placeholder={placeholder} onChange={(e) => onChange({ url: e.target.value })} />
        <FieldIssues issues={issues} at={`${at}.url`} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-password`}>{name} password</label>
        <PasswordInput id={`${id}-password`} row={row} onChange={(password) => onChange({ password })} />
        <FieldIssues issues={issues} at={`${at}.password`} />
      </div>
      <TlsFields id={`${id}-tls`} name={name} whose={whose} tls={row.tls} onChange={(tls) => onChange({ tls })} issues={issues} at={at} />
    </>
  );
}
