/**
 * What the API's query limits cost per request, and how fast an abusive document is refused:
 * `checkDocument` (tokens, depth, aliases, directives) and the cost estimate on the README's largest
 * example, against parse + validate of the same document (what Apollo does anyway: the peer), the
 * two interleaved call by call (--reps calls each after 20 warm-up rounds); and the refusal of the
 * issue-13 attack bodies (650 KB of aliases, 10,000 aliases, 200-level nesting).
 *   npm run bench -- api-limits [--reps 200]
 */
import { parse, validate } from 'graphql';
import { loadFields, sideSummary, type Bench } from './harness.js';
import { checkDocument, DEFAULT_QUERY_LIMITS, queryCost } from '../src/api/limits.js';
import { appSchema } from '../src/api/schema.js';

const typical = `{ analyzePosition(game: othello, moves: "d3 c5 f6 f5", saes: ["1", "2"]) {
    board toMove trueProperties { name }
    saes { sae { trainer } activeFeatureCount
      features { featureIndex value relativeActivation trueAlignments { f1 boardProperty { name } } } } } }`;
const aliases = (n: number, field: string) => '{ ' + Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ') + ' }';
let nested = 'name';
for (let i = 0; i < 200; i++) nested = `ofType { ${nested} }`;

export default async function (h: Bench): Promise<void> {
  const reps = Number(h.option('reps', '200'));
  const schema = appSchema();
  const limits = DEFAULT_QUERY_LIMITS;
  // the guard and the peer interleaved call by call (A, B, A, B, …), --reps calls each
  const cmp = await h.compare(
    [
      {
        name: 'limits',
        step: () => {
          if (checkDocument(schema, typical, limits)) throw new Error('the typical query was refused');
          queryCost(schema, parse(typical));
        },
      },
      { name: 'parse+validate', step: () => void validate(schema, parse(typical)) },
    ],
    { reps, warmup: 20 },
  );
  const guard = cmp.sides.limits;
  const peer = cmp.sides['parse+validate'];
  h.record('typical-query', {
    limitsMedianMs: guard.median,
    parseValidateMedianMs: peer.median,
    // ratio of the medians, interleaved in this run: the guard's cost in units of parse + validate
    ratioToParseValidate: Number((guard.median / peer.median).toFixed(2)),
    limits: sideSummary(guard, 3),
    parseValidate: sideSummary(peer, 3),
    order: 'interleaved',
    ...loadFields(cmp),
  });

  const attacks: Record<string, string> = {
    '650KB-aliases': aliases(26_400, 'version { node }'),
    '10k-aliases': aliases(10_000, 'health'),
    'nested-200': `{ __schema { types { fields { type { ${nested} } } } } }`,
  };
  for (const [name, query] of Object.entries(attacks)) {
    const refuse = await h.time(
      () => {
        if (!checkDocument(schema, query, limits)) throw new Error(`${name} was not refused`);
      },
      { reps: Math.max(5, Math.round(reps / 10)), warmup: 2 },
    );
    h.record(`refuse-${name}`, { bytes: query.length, refuseMedianMs: refuse.median, refuseMaxMs: refuse.max });
  }
}
