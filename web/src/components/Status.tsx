import type { ReactNode } from 'react';
import type { ApiError } from '../api';

export function Loading({ what }: { what: string }) {
  return (
    <p className="status" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: ApiError; retry?: () => void }) {
  return (
    <div className="error" role="alert">
      <strong>Could not load:</strong> {error.message}
      {error.code ? <code> ({error.code})</code> : null}
      {retry ? (
        <button type="button" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** Loading, error or the content, for one query. */
export function Async<R>({ state, what, children }: { state: { data: R | null; error: ApiError | null; loading: boolean; refetch: () => void }; what: string; children: (data: R) => ReactNode }) {
  if (state.error) return <ErrorBox error={state.error} retry={state.refetch} />;
  if (!state.data) return <Loading what={what} />;
  return <>{children(state.data)}</>;
}

export const fmt = (v: number | null | undefined, digits = 3) => (v == null || Number.isNaN(v) ? '–' : Number(v).toFixed(digits));
