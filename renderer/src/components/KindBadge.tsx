import { useMemo, type CSSProperties } from 'react';
import { kindBadge } from '../lib/format.js';
import { useMonitorTypes } from '../monitorTypes.js';

/** The monitor kind of a source or event type as a small coloured label (decorative: the text says it too). */
export function KindBadge({ of }: { of: string }) {
  const types = useMonitorTypes();
  const badges = useMemo(() => new Map(types.map((t) => [t.type, t.badge])), [types]);
  const b = kindBadge(of, badges);
  return (
    <span className="kind-badge" aria-hidden="true" style={{ '--hue': b.hue } as CSSProperties}>
      {b.label}
    </span>
  );
}
