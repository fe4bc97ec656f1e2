// Compare two SAE checkpoints (an ANALYZE job's feature matching): the summary (counts per link
// kind) and the links, each feature linking to its page. /compare?a=<ckpt>&b=<ckpt>&kind=match
import { useQuery } from '../api';
import { graphql } from '../gql';
import type { CompareQuery as CompareData, LinkKind } from '../gql/graphql';
import { Async, fmt } from '../components/Status';
import { Link, useParam } from '../router';

const CompareQuery = graphql(`
  query Compare($a: ID!, $b: ID!, $filter: LinkFilter, $first: Int) {
    compareCheckpoints(a: $a, b: $b, filter: $filter, first: $first) {
      a {
        id
        step
        isFinal
        sae {
          id
          name
          trainer
        }
      }
      b {
        id
        step
        isFinal
        sae {
          id
          name
          trainer
        }
      }
      summary {
        aliveA
        aliveB
        matched
        splits
        merges
        deaths
        births
        meanMatchedCosine
      }
      totalCount
      pageInfo {
        hasNextPage
      }
      edges {
        node {
          kind
          matched
          cosine
          featureA
          featureB
          f1A
          f1B
          deltaF1
          a {
            id
          }
          b {
            id
          }
          boardPropertyA {
            id
            name
          }
          boardPropertyB {
            id
            name
          }
        }
      }
    }
  }
`);

export const LINK_KINDS: { kind: LinkKind; param: string; label: string }[] = [
  { kind: 'MATCH', param: 'match', label: 'Match' },
  { kind: 'SPLIT', param: 'split', label: 'Split' },
  { kind: 'MERGE', param: 'merge', label: 'Merge' },
  { kind: 'DEATH', param: 'death', label: 'Death' },
  { kind: 'BIRTH', param: 'birth', label: 'Birth' },
];
const PAGE = 100;

export function ComparePage() {
  const [a] = useParam('a', '');
  const [b] = useParam('b', '');
  const [kind, setKind] = useParam('kind', '');
  const k = LINK_KINDS.find((x) => x.param === kind);
  const q = useQuery(CompareQuery, { a, b, filter: k ? { kinds: [k.kind] } : null, first: PAGE }, { skip: !a || !b });
  if (!a || !b)
    return (
      <>
        <h1>Compare checkpoints</h1>
        <p className="status">
          Pick two checkpoints on an SAE page (<code>/compare?a=…&amp;b=…</code>). Start from the <Link to="/">leaderboard</Link>.
        </p>
      </>
    );
  return (
    <>
      <h1>
        Compare checkpoints {a} → {b}
      </h1>
      <div className="filters">
        <label>
          Link kind
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">all kinds</option>
            {LINK_KINDS.map((x) => (
              <option key={x.param} value={x.param}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Async state={q} what={`the comparison of checkpoints ${a} and ${b}`}>
        {(d) => <CompareView c={d.compareCheckpoints} kindLabel={k?.label ?? null} />}
      </Async>
    </>
  );
}

type Comparison = CompareData['compareCheckpoints'];
type Ckpt = Comparison['a'];

const ckptLabel = (c: Ckpt) => `SAE ${c.sae.name}, step ${c.step}${c.isFinal ? ' (final)' : ''}`;

function CompareView({ c, kindLabel }: { c: Comparison; kindLabel: string | null }) {
  const s = c.summary;
  const counts: [string, string, number | string][] = [
    ['aliveA', 'Alive in A', s.aliveA],
    ['aliveB', 'Alive in B', s.aliveB],
    ['matched', 'Matched', s.matched],
    ['splits', 'Splits', s.splits],
    ['merges', 'Merges', s.merges],
    ['deaths', 'Deaths', s.deaths],
    ['births', 'Births', s.births],
    ['meanMatchedCosine', 'Mean matched cosine', fmt(s.meanMatchedCosine)],
  ];
  const rows = c.edges.map((e) => e.node);
  return (
    <>
      <p className="crumbs">
        <Link to="/">Leaderboard</Link> › <Link to={`/sae/${c.b.sae.id}`}>SAE {c.b.sae.name}</Link> › Compare
      </p>
      <p className="lede">
        A: <Link to={`/sae/${c.a.sae.id}`}>{ckptLabel(c.a)}</Link>; B: <Link to={`/sae/${c.b.sae.id}`}>{ckptLabel(c.b)}</Link>. Features are linked by the cosine of their decoder vectors: one-to-one pairs (the assignment; &ldquo;Matched&rdquo; counts them) and the
        extra links of splits (one of A to several of B) and merges; deaths and births have no partner.
      </p>
      <section aria-labelledby="csum">
        <h2 id="csum">Summary</h2>
        <dl className="kv stats">
          {counts.map(([key, name, v]) => (
            <div key={key}>
              <dt>{name}</dt>
              <dd data-stat={key}>{v}</dd>
            </div>
          ))}
        </dl>
      </section>
      <section aria-labelledby="clinks">
        <h2 id="clinks">{kindLabel ? `${kindLabel} links` : 'Links'}</h2>
        <p className="muted">
          {rows.length} shown{c.totalCount != null ? ` of ${c.totalCount}` : ''}
          {c.pageInfo.hasNextPage ? ` (the first ${rows.length}; query compareCheckpoints for the rest)` : ''}.
        </p>
        {rows.length ? (
          <div className="table-wrap">
            <table aria-labelledby="clinks">
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Feature in A</th>
                  <th scope="col">Feature in B</th>
                  <th scope="col">Cosine</th>
                  <th scope="col">One-to-one</th>
                  <th scope="col">F1 in A</th>
                  <th scope="col">F1 in B</th>
                  <th scope="col">Best property (B, else A)</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => {
                  const bsp = r.boardPropertyB ?? r.boardPropertyA;
                  return (
                    <tr key={i} data-link={`${r.featureA ?? ''}-${r.featureB ?? ''}`} data-kind={r.kind}>
                      <td>{r.kind.toLowerCase()}</td>
                      <td>{r.a ? <Link to={`/feature/${r.a.id}`} aria-label={`feature ${r.featureA} in A`}>#{r.featureA}</Link> : '–'}</td>
                      <td>{r.b ? <Link to={`/feature/${r.b.id}`} aria-label={`feature ${r.featureB} in B`}>#{r.featureB}</Link> : '–'}</td>
                      <td className="num">{fmt(r.cosine)}</td>
                      <td>{r.matched ? 'yes' : 'no'}</td>
                      <td className="num">{fmt(r.f1A)}</td>
                      <td className="num">{fmt(r.f1B)}</td>
                      <td>{bsp ? <Link to={`/property/${bsp.id}`}>{bsp.name}</Link> : '–'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="status">No links of this kind.</p>
        )}
      </section>
    </>
  );
}
