import { createContext, useContext, type ReactNode } from 'react';
import type { MonitorTypeInfo } from '../../core/protocol.js';
import { useQuery } from './state.js';

const MonitorTypes = createContext<MonitorTypeInfo[]>([]);

/**
 * The monitor types as the engine describes them (title, badge, category, events, routes), fetched once for the
 * whole window: how a monitor's events look comes from its folder, not from a table here.
 */
export function MonitorTypesProvider({ children }: { children: ReactNode }) {
  const types = useQuery('monitors.types', {});
  return <MonitorTypes.Provider value={types.data ?? []}>{children}</MonitorTypes.Provider>;
}

export function useMonitorTypes(): MonitorTypeInfo[] {
  return useContext(MonitorTypes);
}
