import type { ReactNode } from 'react';

/**
 * What a filtered list shows when its filters leave nothing of a list that is not empty: says so, and offers the
 * way back (the Feed, the Rules list and History use it alike). `onClear` resets every filter of that list.
 */
export function NoMatch({ children, onClear }: { children: ReactNode; onClear(): void }) {
  return (
    <div className="empty" role="status">
      {children}{' '}
      <button type="button" onClick={onClear}>
        Clear filters
      </button>
    </div>
  );
}
