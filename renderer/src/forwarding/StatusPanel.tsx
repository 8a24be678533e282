import type { ForwardingStatusInfo } from '../../../core/protocol.js';
import { MachinesList } from './MachinesList.js';

function Dot({ on, label }: { on: boolean; label: string }) {
  return <span className={`status ${on ? 'status-ok' : 'status-failing'}`}>{label}</span>;
}

/** Live forwarding status: the forward connection and its queue, each receiving broker, the embedded broker, the machines seen. */
export function ForwardingStatusPanel({ status }: { status: ForwardingStatusInfo }) {
  const f = status.forward;
  return (
    <section aria-label="Forwarding status" className="forwarding-status">
      <table className="fields">
        <tbody>
          <tr>
            <th>Forwarding</th>
            <td data-testid="forward-status">
              {f ? (
                <>
                  <Dot on={f.connected} label={f.connected ? 'connected' : 'not connected'} /> to <code>{f.broker}</code> as <code>{f.agentId}</code>
                  {' · '}
                  <span data-testid="forward-queued">{f.queued} queued</span>
                  {f.lastError && !f.connected ? <div className="help">{f.lastError}</div> : null}
                </>
              ) : (
                <span className="muted">off</span>
              )}
            </td>
          </tr>
          {status.receivers.map((r) => (
            <tr key={r.broker}>
              <th>Receiving</th>
              <td>
                <Dot on={r.connected} label={r.connected ? 'connected' : 'not connected'} /> <code>{r.broker}</code> · {r.stored} received
                {r.duplicates ? `, ${r.duplicates} duplicates dropped` : ''}
                {r.rejected ? `, ${r.rejected} rejected` : ''}
                {r.lastError && !r.connected ? <div className="help">{r.lastError}</div> : null}
              </td>
            </tr>
          ))}
          {status.embeddedBroker ? (
            <tr>
              <th>Embedded broker</th>
              <td>
                <Dot on={status.embeddedBroker.running} label={status.embeddedBroker.running ? 'running' : 'stopped'} /> on{' '}
                <code>
                  {status.embeddedBroker.host}:{status.embeddedBroker.port}
                </code>
                {status.embeddedBroker.error ? <div className="help">{status.embeddedBroker.error}</div> : null}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <h3 style={{ fontSize: '1em', margin: '0.8rem 0 0.3rem' }}>Machines seen</h3>
      <MachinesList peers={status.peers} />
      {status.problems.length ? (
        <div className="error-box" role="alert">
          {status.problems.map((p, i) => (
            <div key={i}>{p}</div>
          ))}
        </div>
      ) : null}
    </section>
  );
}
