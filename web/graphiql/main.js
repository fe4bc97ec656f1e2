// GraphiQL for saeboard, bundled by scripts/build-graphiql.mjs into dist/graphiql/ (no CDN: the
// page, script, styles and fonts all come from this server). Served at GET /graphql to browsers.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

const fetcher = createGraphiQLFetcher({ url: new URL('/graphql', window.location.href).toString() });
const defaultQuery = `# saeboard GraphQL API. With --require-key, add in Headers:
#   { "Authorization": "Bearer sbk_..." }
{
  health
  version { version backend kernels }
  games { id vocabSize datasetCount }
}
`;

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, { fetcher, defaultQuery, shouldPersistHeaders: false }),
);
