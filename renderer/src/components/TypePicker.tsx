import type { MonitorTypeInfo } from '../../../core/protocol.js';
import { KindBadge } from './KindBadge.js';

/** The cards "Add monitor" opens, one per monitor type; the same on this machine and on another one. */
export function TypePicker(props: { types: readonly MonitorTypeInfo[]; error?: string; onPick(type: MonitorTypeInfo): void }) {
  return (
    <section className="type-picker" aria-label="Choose a monitor type">
      {props.error ? <div className="error-box">{props.error}</div> : null}
      {props.types.map((t) => (
        <button key={t.type} className="type-card" onClick={() => props.onPick(t)}>
          <KindBadge of={t.type} />
          <strong>{t.title}</strong>
          <span className="muted">{t.description}</span>
        </button>
      ))}
    </section>
  );
}
