import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { resolvers } from './resolvers.js';

let schema: GraphQLSchema | undefined;

/**
 * type-graphql wants a PubSub for any @Subscription; ours all bring their own `subscribe`
 * (Postgres LISTEN/NOTIFY, src/services/jobEvents.ts), so topics are never used.
 */
const noTopicPubSub = {
  publish(): void {
    throw new Error('saeboard subscriptions have no topics: they subscribe through their own source');
  },
  subscribe(): AsyncIterable<unknown> {
    throw new Error('saeboard subscriptions have no topics: they subscribe through their own source');
  },
};

/** The API schema, built once from the type-graphql classes in src/api/<domain>/. */
export function appSchema(): GraphQLSchema {
  // validate: false — no argument class carries class-validator rules (services check arguments and
  // throw UserInputError), and type-graphql's validation does a dynamic import() per argument
  // object per request: ~4 % of a computed feature page's CPU for nothing.
  schema ??= buildSchemaSync({ resolvers, validate: false, pubSub: noTopicPubSub });
  return schema;
}

/** SDL as committed in schema.graphql: sorted, so the file only changes when the schema does. */
export function schemaSdl(): string {
  return printSchema(lexicographicSortSchema(appSchema())) + '\n';
}
