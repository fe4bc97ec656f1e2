import { useEffect, useState } from 'react';
import { ApiError, request, subscribe, useQuery } from '../api';
import { graphql } from '../gql';
import type { JobFieldsFragment } from '../gql/graphql';
import { Async, fmt } from '../components/Status';
import { useParam } from '../router';

graphql(`
  fragment JobFields on Job {
    id
    kind
    status
    stage
    progress
    message
    error
    etaSeconds
    pipeline
    createdAt
    finishedAt
  }
`);

const JobsQuery = graphql(`
  query Jobs($filter: JobFilter) {
    jobs(filter: $filter, first: 50) {
      edges {
        node {
          ...JobFields
        }
      }
    }
  }
`);

const JobUpdated = graphql(`
  subscription JobUpdated {
    jobUpdated {
      ...JobFields
    }
  }
`);

const StartJob = graphql(`
  mutation StartJob($kind: String!, $config: JSON!) {
    startJob(kind: $kind, config: $config) {
      ...JobFields
    }
  }
`);

const CancelJob = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobFields
    }
  }
`);

const STATUSES = ['', 'waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const KEY_STORAGE = 'saeboard.apiKey';

export function JobsPage() {
  const [status, setStatus] = useParam('status', '');
  const [kindFilter, setKindFilter] = useParam('kind', '');
  const list = useQuery(JobsQuery, { filter: { status: status || null, kind: kindFilter || null } });
  const [jobs, setJobs] = useState<JobFieldsFragment[]>([]);
  const [live, setLive] = useState<'connecting' | 'live' | 'off'>('connecting');
  const [apiKey, setApiKey] = useState(() => sessionStorage.getItem(KEY_STORAGE) ?? '');
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    if (list.data) setJobs(list.data.jobs.edges.map((e) => e.node));
  }, [list.data]);

  useEffect(() => {
    setLive('connecting');
    const stop = subscribe(
      JobUpdated,
      {},
      (d) => {
        setLive('live');
        setJobs((prev) => {
          const j = d.jobUpdated;
          const i = prev.findIndex((p) => p.id === j.id);
          if (i >= 0) return prev.map((p) => (p.id === j.id ? j : p));
          if ((status && j.status !== status) || (kindFilter && j.kind !== kindFilter)) return prev;
          return [j, ...prev];
        });
      },
      () => setLive('off'),
      apiKey || undefined,
    );
    const t = setTimeout(() => setLive((l) => (l === 'connecting' ? 'live' : l)), 1500);
    return () => {
      clearTimeout(t);
      stop();
    };
  }, [apiKey, status, kindFilter]);

  const saveKey = (k: string) => {
    setApiKey(k);
    if (k) sessionStorage.setItem(KEY_STORAGE, k);
    else sessionStorage.removeItem(KEY_STORAGE);
  };
  const act = async (what: () => Promise<string>) => {
    setNotice(null);
    try {
      setNotice({ ok: true, text: await what() });
    } catch (e) {
      setNotice({ ok: false, text: e instanceof ApiError ? `${e.message}${e.code ? ` (${e.code})` : ''}` : String(e) });
    }
  };
  const cancel = (id: string) =>
    act(async () => {
      const r = await request(CancelJob, { id }, apiKey || undefined);
      setJobs((prev) => prev.map((p) => r.cancelJob.find((c) => c.id === p.id) ?? p));
      return `Cancelled ${r.cancelJob.map((j) => `job ${j.id}`).join(', ')}.`;
    });

  return (
    <>
      <h1>Jobs</h1>
      <p className="lede">
        The queue, live over the <code>jobUpdated</code> subscription{' '}
        <span className={`tag live-${live}`} role="status">
          {live === 'live' ? 'live' : live === 'connecting' ? 'connecting…' : 'not live (reload to retry)'}
        </span>
        . Starting and cancelling jobs needs an API key (<code>saeboard apikey create --name NAME</code>).
      </p>
      <div className="grid">
        <section aria-labelledby="key-h">
          <h2 id="key-h">API key</h2>
          <label>
            API key (kept in this tab only)
            <input type="password" autoComplete="off" value={apiKey} onChange={(e) => saveKey(e.target.value.trim())} placeholder="sbk_…" />
          </label>
        </section>
        <StartForm apiKey={apiKey} onStarted={(j) => setJobs((prev) => [j, ...prev.filter((p) => p.id !== j.id)])} act={act} />
      </div>
      {notice ? (
        <p className={notice.ok ? 'notice' : 'error'} role={notice.ok ? 'status' : 'alert'}>
          {notice.text}
        </p>
      ) : null}
      <section aria-labelledby="list-h">
        <h2 id="list-h">Jobs, newest first</h2>
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Job filters">
          <label>
            Status
            <select value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s || 'any'}
                </option>
              ))}
            </select>
          </label>
          <label>
            Kind
            <select value={kindFilter} onChange={(e) => setKindFilter(e.target.value)}>
              {['', 'GENERATE_DATASET', 'COLLECT_ACTIVATIONS', 'TRAIN_SAE_SWEEP', 'EVALUATE', 'PROBE'].map((k) => (
                <option key={k} value={k}>
                  {k || 'any'}
                </option>
              ))}
            </select>
          </label>
        </form>
        <Async state={list} what="jobs">
          {() =>
            jobs.length ? (
              <div className="table-wrap">
                <table aria-labelledby="list-h">
                  <thead>
                    <tr>
                      <th scope="col">Job</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Status</th>
                      <th scope="col">Progress</th>
                      <th scope="col">Stage / message</th>
                      <th scope="col">
                        <span className="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {jobs.map((j) => (
                      <tr key={j.id} data-job={j.id} data-status={j.status}>
                        <td>{j.id}</td>
                        <td>{j.kind}</td>
                        <td className={`st st-${j.status}`}>{j.status}</td>
                        <td>
                          <progress max={1} value={j.progress} aria-label={`Progress of job ${j.id}`} /> {Math.round(j.progress * 100)}%
                          {j.etaSeconds != null && j.status === 'running' ? <span className="muted"> ETA {fmt(j.etaSeconds, 0)} s</span> : null}
                        </td>
                        <td>{j.error ?? [j.stage, j.message].filter(Boolean).join(': ')}</td>
                        <td>
                          {['waiting', 'queued', 'running'].includes(j.status) ? (
                            <button type="button" onClick={() => void cancel(j.id)} aria-label={`Cancel job ${j.id}`}>
                              Cancel
                            </button>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p className="status">No jobs{status ? ` with status ${status}` : ''}.</p>
            )
          }
        </Async>
      </section>
    </>
  );
}

const TRAINERS = ['standard', 'gated', 'p_anneal', 'gated_anneal', 'top_k', 'batch_top_k', 'jump_relu'];

interface FormFields {
  name: string;
  activations: string;
  out: string;
  trainers: string[];
  steps: string;
  expansion: string;
  saes: string;
  dataset: string;
  families: string;
}

const DEFAULT_FIELDS: FormFields = {
  name: 'dashboard-sweep',
  activations: 'runs/acts/othello-small-L2',
  out: 'runs/sweeps/dashboard-sweep',
  trainers: ['top_k', 'p_anneal'],
  steps: '2000',
  expansion: '8',
  saes: 'runs/sweeps/dashboard-sweep',
  dataset: 'runs/data/othello-eval',
  families: 'board_state,valid_moves',
};

/** The job config the fields describe (the server validates it and lists every bad field). */
function configOf(kind: string, f: FormFields): object {
  if (kind === 'EVALUATE') {
    return { saes: f.saes.split(/\n|,/).map((x) => x.trim()).filter(Boolean), dataset: f.dataset.trim(), ...(f.families.trim() ? { families: f.families.trim() } : {}) };
  }
  return {
    sweep: {
      name: f.name.trim(),
      source: { type: 'activations', path: f.activations.trim() },
      defaults: { steps: Number(f.steps), expansion: Number(f.expansion) },
      trainers: f.trainers.map((trainer) => ({ trainer })),
    },
    out: f.out.trim(),
  };
}

function StartForm({ apiKey, onStarted, act }: { apiKey: string; onStarted: (j: JobFieldsFragment) => void; act: (f: () => Promise<string>) => Promise<void> }) {
  const [kind, setKind] = useParam('start', 'TRAIN_SAE_SWEEP');
  const [fields, setFields] = useState<FormFields>(DEFAULT_FIELDS);
  const [json, setJson] = useState<string | null>(null); // an edited config overrides the fields
  const set = (k: keyof FormFields) => (e: { target: { value: string } }) => {
    setFields((f) => ({ ...f, [k]: e.target.value }));
    setJson(null);
  };
  const config = json ?? JSON.stringify(configOf(kind, fields), null, 2);
  const text = (k: keyof FormFields, label: string, opts: { multiline?: boolean; type?: string } = {}) => (
    <label>
      {label}
      {opts.multiline ? <textarea value={fields[k] as string} onChange={set(k)} rows={2} spellCheck={false} /> : <input type={opts.type ?? 'text'} value={fields[k] as string} onChange={set(k)} spellCheck={false} />}
    </label>
  );
  return (
    <section aria-labelledby="start-h">
      <h2 id="start-h">Start a job</h2>
      <form
        className="start"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(config);
            } catch {
              throw new ApiError('The config is not valid JSON.');
            }
            const r = await request(StartJob, { kind, config: parsed }, apiKey || undefined);
            onStarted(r.startJob);
            return `Started job ${r.startJob.id} (${r.startJob.kind}, ${r.startJob.status}).`;
          });
        }}
      >
        <label>
          Kind
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.target.value);
              setJson(null);
            }}
          >
            <option value="TRAIN_SAE_SWEEP">SAE sweep (TRAIN_SAE_SWEEP)</option>
            <option value="EVALUATE">Evaluation (EVALUATE)</option>
          </select>
        </label>
        {kind === 'EVALUATE' ? (
          <>
            {text('saes', 'SAE checkpoint or sweep directories (one a line)', { multiline: true })}
            {text('dataset', 'Evaluation dataset directory')}
            {text('families', 'Board-property families (comma-separated; empty: the defaults)')}
          </>
        ) : (
          <>
            {text('name', 'Sweep name')}
            {text('activations', 'Activation set directory')}
            {text('out', 'Output directory')}
            <fieldset className="trainers">
              <legend>Trainers</legend>
              {TRAINERS.map((t) => (
                <label key={t} className="check">
                  <input
                    type="checkbox"
                    checked={fields.trainers.includes(t)}
                    onChange={() => {
                      setFields((f) => ({ ...f, trainers: f.trainers.includes(t) ? f.trainers.filter((x) => x !== t) : [...f.trainers, t] }));
                      setJson(null);
                    }}
                  />
                  {t}
                </label>
              ))}
            </fieldset>
            <div className="row">
              {text('steps', 'Steps', { type: 'number' })}
              {text('expansion', 'Expansion (features / input width)', { type: 'number' })}
            </div>
          </>
        )}
        <details>
          <summary>Config as JSON (edit for any other option)</summary>
          <label>
            Config (JSON; validated by the server)
            <textarea value={config} onChange={(e) => setJson(e.target.value)} rows={10} spellCheck={false} />
          </label>
        </details>
        <button type="submit" disabled={!apiKey} title={apiKey ? undefined : 'Enter an API key first'}>
          Start job
        </button>
      </form>
    </section>
  );
}
