import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { resolvers } from './resolvers.js';

let schema: GraphQLSchema | undefined;

/** The API schema, built once from the type-graphql classes in src/api/<domain>/. */
export function appSchema(): GraphQLSchema {
  schema ??= buildSchemaSync({ resolvers, validate: true });
  return schema;
}

/** SDL as committed in schema.graphql: sorted, so the file only changes when the schema does. */
export function schemaSdl(): string {
  return printSchema(lexicographicSortSchema(appSchema())) + '\n';
}
