/** Every GraphQL example in the README parses and validates against the schema. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { appSchema } from '../../src/api/schema.js';
import { PROJECT_ROOT } from '../../src/version.js';

describe('README GraphQL examples', () => {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);

  it('has examples, and each operation is valid against the schema', () => {
    expect(blocks.length).toBeGreaterThan(0);
    let operations = 0;
    for (const block of blocks) {
      const doc = parse(block);
      for (const def of doc.definitions) {
        expect(def.kind).toBe(Kind.OPERATION_DEFINITION);
        const one: DocumentNode = { kind: Kind.DOCUMENT, definitions: [def] };
        const errors = validate(appSchema(), one).map((e) => e.message);
        expect(errors, block.slice(def.loc!.start, def.loc!.end)).toEqual([]);
        operations++;
      }
    }
    expect(operations).toBeGreaterThanOrEqual(10);
  });
});
