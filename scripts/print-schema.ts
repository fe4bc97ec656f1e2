// Regenerate schema.graphql from the type-graphql classes: `npm run schema:print`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { schemaSdl } from '../src/api/schema.js';
import { PROJECT_ROOT } from '../src/version.js';

const file = path.join(PROJECT_ROOT, 'schema.graphql');
writeFileSync(file, schemaSdl());
process.stdout.write(`wrote ${file}\n`);
