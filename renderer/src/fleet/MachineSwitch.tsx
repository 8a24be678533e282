import { useQuery, usePush } from '../state.js';

/**
 * The machines whose configuration this desktop may change (deployed from here, so paired with its key), for the
 * switchers of the Monitors and Rules views; a machine appears once its configuration reaches the desktop.
 */
export function usePairedMachines(): string[] {
  const fleet = useQuery('fleet.list', {});
  usePush('fleet', (p) => {
    if (!fleet.data?.machines.some((m) => m.agentId === p.agentId)) fleet.reload();
  });
  return (fleet.data?.machines ?? []).filter((m) => m.paired).map((m) => m.agentId);
}

/** "Machine: This machine | pi | …" — shown only when there is another machine to switch to. */
export function MachineSwitch({ machines, value, onChange }: { machines: string[]; value: string | null; onChange(agentId: string | null): void }) {
  if (!machines.length) return null;
  return (
    <label className="machine-switch">
      Machine{' '}
      <select aria-label="Machine" value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">This machine</option>
        {machines.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
    </label>
  );
}
