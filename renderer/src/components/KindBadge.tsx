import type { CSSProperties } from 'react';
import { kindBadge } from '../lib/format.js';

/** The monitor kind of a source or event type as a small coloured label (decorative: the text says it too). */
export function KindBadge({ of }: { of: string }) {
  const b = kindBadge(of);
  return (
    <span className="kind-badge" aria-hidden="true" style={{ '--hue': b.hue } as CSSProperties}>
      {b.label}
    </span>
  );
}
