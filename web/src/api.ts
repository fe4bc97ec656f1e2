// The dashboard talks only to the public GraphQL API: queries and mutations over HTTP POST at
// /graphql, subscriptions over graphql-ws at the same path. Operations are typed by codegen.
import { useCallback, useEffect, useRef, useState } from 'react';
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from './gql/graphql';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The key typed on the Jobs page (this tab only): sent with every request, for servers run with --require-key. */
export const storedApiKey = (): string | undefined => sessionStorage.getItem('saeboard.apiKey') || undefined;

export async function request<R, V>(doc: TypedDocumentString<R, V>, variables?: V, apiKey: string | undefined = storedApiKey()): Promise<R> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    },
    body: JSON.stringify({ query: doc.toString(), variables: variables ?? {} }),
  });
  let body: { data?: R; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The server answered ${res.status} without JSON.`);
  }
  if (body.errors?.length) throw new ApiError(body.errors.map((e) => e.message).join('; '), body.errors[0].extensions?.code);
  if (!body.data) throw new ApiError(`The server answered ${res.status} without data.`);
  return body.data;
}

export interface QueryState<R> {
  data: R | null;
  error: ApiError | null;
  loading: boolean;
  refetch: () => void;
}

/** Run a query whenever its variables change (by value); skip while `skip`. */
export function useQuery<R, V>(doc: TypedDocumentString<R, V>, variables: V, opts: { skip?: boolean } = {}): QueryState<R> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data: R | null; error: ApiError | null; loading: boolean; key: string | null }>({ data: null, error: null, loading: !opts.skip, key: null });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    if (opts.skip) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    request(doc, JSON.parse(key) as V).then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false, key }),
      (err: unknown) => mine === seq.current && setState({ data: null, error: err instanceof ApiError ? err : new ApiError(String(err)), loading: false, key }),
    );
  }, [doc, key, tick, opts.skip]);
  const refetch = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, refetch };
}

let wsClient: Client | null = null;
let wsKey: string | undefined;

/** Subscribe over graphql-ws; returns the unsubscribe function. */
export function subscribe<R, V>(doc: TypedDocumentString<R, V>, variables: V, onData: (data: R) => void, onError: (e: ApiError) => void, apiKey?: string): () => void {
  if (!wsClient || wsKey !== apiKey) {
    void wsClient?.dispose();
    const url = new URL('/graphql', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    wsClient = createClient({ url: url.toString(), connectionParams: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, lazy: true, retryAttempts: 3 });
    wsKey = apiKey;
  }
  return wsClient.subscribe<R>(
    { query: doc.toString(), variables: variables as Record<string, unknown> },
    {
      next: (msg) => {
        if (msg.errors?.length) onError(new ApiError(msg.errors.map((e) => e.message).join('; ')));
        else if (msg.data) onData(msg.data as R);
      },
      error: (err) => onError(new ApiError(err instanceof Error ? err.message : 'the live connection closed')),
      complete: () => {},
    },
  );
}
