import { useState } from 'react';
import type { ValidationIssue } from '../../../core/protocol.js';
import { useClient } from '../state.js';
import { RequestError } from '../transport/client.js';
import { FieldIssues } from '../forwarding/FieldIssues.js';
import { DeployRunView, useDeployments } from './deployments.js';

interface Draft {
  target: string;
  agentId: string;
  broker: string;
  port: string;
  identity: string;
  knownHosts: string;
  sshConfig: string;
  dir: string;
  node: string;
  service: 'auto' | 'systemd' | 'pidfile';
}

const EMPTY: Draft = { target: '', agentId: '', broker: '', port: '', identity: '', knownHosts: '', sshConfig: '', dir: '', node: '', service: 'auto' };

/**
 * Settings → Machines → Deploy an agent: the form of `panoptes deploy`. The engine runs the same code over the
 * user's own ssh (keys, agent, known_hosts honoured) and the page follows its steps; a refusal (a changed host key,
 * a key the machine does not take, no or an old Node, a folder it cannot write, a broker it cannot reach) is said
 * in the same words as the CLI, and nothing is left installed.
 */
export function DeployPanel() {
  const client = useClient();
  const { runs } = useDeployments();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [issues, setIssues] = useState<ValidationIssue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  // The run started here; after a reload (or with the page opened later), the latest deploy the engine knows of.
  const run = (runId ? runs.find((r) => r.runId === runId) : [...runs].reverse().find((r) => r.kind === 'deploy')) ?? null;
  const busy = run?.state === 'running';

  const start = async () => {
    const port = draft.port.trim() ? Number(draft.port) : undefined;
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      setIssues([{ path: '$.port', message: 'a port number, 1 to 65535' }]);
      return;
    }
    const opt = (v: string) => (v.trim() ? v.trim() : undefined);
    try {
      const r = await client.request('deploy.start', {
        target: draft.target,
        broker: draft.broker,
        ...(opt(draft.agentId) ? { agentId: opt(draft.agentId) } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(opt(draft.identity) ? { identity: opt(draft.identity) } : {}),
        ...(opt(draft.knownHosts) ? { knownHosts: opt(draft.knownHosts) } : {}),
        ...(opt(draft.sshConfig) ? { sshConfig: opt(draft.sshConfig) } : {}),
        ...(opt(draft.dir) ? { dir: opt(draft.dir) } : {}),
        ...(opt(draft.node) ? { node: opt(draft.node) } : {}),
        service: draft.service,
      });
      setRunId(r.runId);
      setIssues([]);
      setError(null);
    } catch (e) {
      setIssues(e instanceof RequestError ? e.issues : []);
      setError(e instanceof RequestError && e.issues.length ? null : (e as Error).message);
    }
  };

  const field = (id: keyof Draft, label: string, help: string, props: { placeholder?: string; type?: string } = {}) => (
    <div className="field">
      <label htmlFor={`dep-${id}`}>{label}</label>
      <input id={`dep-${id}`} value={draft[id]} onChange={(e) => set({ [id]: e.target.value } as Partial<Draft>)} spellCheck={false} {...props} />
      <div className="help">{help}</div>
      <FieldIssues issues={issues} at={`$.${id}`} />
    </div>
  );

  return (
    <form
      className="card form"
      aria-label="Deploy an agent"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <h2>Deploy an agent</h2>
      <div className="help" style={{ marginBottom: '0.6rem' }}>
        Installs this build as a headless agent on another machine over SSH (your own ssh, keys and known_hosts), starts it
        as a user service and waits until it reports online on the broker. It takes changes of its monitors and rules from
        this desktop alone. The other machine needs Node 20 or newer, no internet. Same as <code>panoptes deploy</code>.
      </div>
      {field('target', 'Machine', 'user@host or a Host name from your ssh config, as you give it to ssh (its port goes in SSH port).', { placeholder: 'pi@raspberrypi.lan' })}
      {field('agentId', 'Agent id', 'Its name on the broker and in Machines (default: the host name).', { placeholder: 'the host name' })}
      {field('broker', 'Broker', 'The MQTT broker it reports to, reachable from that machine; the password is kept there in a 0600 file.', { placeholder: 'mqtt://user:pass@desktop.lan:1883' })}
      <details>
        <summary>SSH and install options</summary>
        {field('sshConfig', 'ssh config file', 'Read instead of ~/.ssh/config (ssh -F): its Host aliases, ports, users, keys and known_hosts apply as ssh takes them.', { placeholder: '~/.ssh/config' })}
        {field('port', 'SSH port', 'Default: 22, or what the ssh config says.', { placeholder: '22', type: 'number' })}
        {field('identity', 'Key file', 'A private key to log in with (default: your ssh agent and keys).', { placeholder: '~/.ssh/id_ed25519' })}
        {field('knownHosts', 'known_hosts file', 'Where the machine\'s host key is checked (default: your own). Never skipped.', { placeholder: '~/.ssh/known_hosts' })}
        {field('dir', 'Install folder', 'On that machine, relative to the user\'s home unless absolute.', { placeholder: '.panoptes-agent' })}
        {field('node', 'Node there', 'Default: node on the PATH of an ssh session.', { placeholder: 'node' })}
        <div className="field">
          <label htmlFor="dep-service">Run it as</label>
          <select id="dep-service" value={draft.service} onChange={(e) => set({ service: e.target.value as Draft['service'] })}>
            <option value="auto">A systemd --user unit where there is one, else a supervised process</option>
            <option value="systemd">A systemd --user unit</option>
            <option value="pidfile">A supervised process with a pid file</option>
          </select>
        </div>
      </details>
      {error ? (
        <div className="error-box" role="alert">
          {error}
        </div>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Deploying…' : 'Deploy'}
        </button>
      </div>
      {run ? <DeployRunView run={run} /> : null}
    </form>
  );
}
