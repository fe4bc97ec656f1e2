/**
 * Limits on what one GraphQL request may ask for, checked before anything runs:
 * - tokens (the lexer stops counting at the limit, so a 650 KB document costs no more than a
 *   small one; Apollo's parser gets the same cap as a backstop),
 * - depth, aliases and directives (graphql-armor's validation rules, run on their own before
 *   Apollo parses and validates: `checkDocument`, called by the HTTP layer),
 * - cost (graphql-query-complexity, list-aware: a field returning a page counts its children
 *   `first` times),
 * - operations the schema has no root for (`mutation`/`subscription` on a query-only schema).
 * Every rejection is a GraphQL error with `extensions.code` QUERY_TOO_COMPLEX (or
 * GRAPHQL_VALIDATION_FAILED for unknown operation types) and HTTP status 400.
 */
import { createRequire } from 'node:module';
import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  isListType,
  Lexer,
  parse,
  Source,
  TokenKind,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';

// Its ESM build imports 'graphql/index.mjs', a second copy of graphql beside the CommonJS one that
// type-graphql builds the schema with ("Cannot use GraphQLObjectType from another module"): load
// the CommonJS build, as type-graphql does.
const { fieldExtensionsEstimator, getComplexity, simpleEstimator } = createRequire(import.meta.url)(
  'graphql-query-complexity',
) as typeof import('graphql-query-complexity');

export interface QueryLimits {
  /** Lexical tokens in the document. */
  maxTokens: number;
  /** Nesting of selections (fragments flattened, introspection included). */
  maxDepth: number;
  /** Aliased fields in one operation. */
  maxAliases: number;
  /** Directives in one operation. */
  maxDirectives: number;
  /** Estimated cost: 1 a field; a list field costs `first` (or `last`/`limit`, else 10) times its children. */
  maxCost: number;
}

export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = {
  maxTokens: 5000,
  maxDepth: 15,
  maxAliases: 30,
  maxDirectives: 50,
  maxCost: 20_000,
};

/** Assumed length of a list field with no page-size argument. */
export const DEFAULT_LIST_SIZE = 10;

export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

export function tooComplex(message: string, limit: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: QUERY_TOO_COMPLEX, limit, http: { status: 400 } } });
}

/** True when the document has more than `max` tokens; lexes at most max + 1 of them. */
export function exceedsTokens(query: string, max: number): boolean {
  const lexer = new Lexer(new Source(query));
  try {
    for (let n = 0; lexer.advance().kind !== TokenKind.EOF; ) if (++n > max) return true;
  } catch {
    // A syntax error: the parser reports it with its location.
  }
  return false;
}

/** graphql-js 17's KnownOperationTypesRule: `mutation { x }` on a schema without mutations is invalid, not an execution failure. */
export const KnownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This API has no ${node.operation}s: the schema defines no ${node.operation} type.`, { nodes: node }));
    }
  },
});

/** Over HTTP, subscriptions are refused at validation: they run over WebSocket (graphql-ws). */
export const NoSubscriptionOverHttpRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation === 'subscription' && context.getSchema().getSubscriptionType()) {
      context.reportError(new GraphQLError('Subscriptions go over WebSocket (graphql-ws protocol) at /graphql, not over HTTP.', { nodes: node }));
    }
  },
});

/** The armor rules, reporting (not throwing) coded errors. */
function shapeRules(limits: QueryLimits): ValidationRule[] {
  const report = (limit: string) => [
    (ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(tooComplex(err.message.replace(/^Syntax Error: /, ''), limit)),
  ];
  const common = { propagateOnRejection: false, exposeLimits: true };
  return [
    maxDepthRule({ ...common, n: limits.maxDepth, ignoreIntrospection: false, flattenFragments: true, onReject: report('depth') }) as ValidationRule,
    maxAliasesRule({ ...common, n: limits.maxAliases, onReject: report('aliases') }) as ValidationRule,
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: report('directives') }) as ValidationRule,
  ];
}

const PAGE_SIZE_ARGS = ['first', 'last', 'limit'];

/**
 * Cost of a field: its own 1 plus its children's, times the page size for lists. Lists inside a
 * Relay connection (`edges`) are already counted by the connection's `first`. Introspection is
 * bounded by the schema's size, so its lists count once (depth limits how far it nests).
 */
export const listAwareEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (field.name.startsWith('__') || type.name.startsWith('__')) return 1 + childComplexity;
  const pageArg = PAGE_SIZE_ARGS.map((a) => args[a]).find((v) => typeof v === 'number');
  if (pageArg !== undefined) return 1 + Math.max(0, pageArg as number) * childComplexity;
  const isList = isListType(getNullableType(field.type));
  if (isList && !type.name.endsWith('Connection') && !getNamedType(field.type).name.endsWith('Edge')) {
    return 1 + DEFAULT_LIST_SIZE * childComplexity;
  }
  return 1 + childComplexity;
};

/** Estimated cost of one operation (for tests and error messages). */
export function queryCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> = {}, operationName?: string): number {
  return getComplexity({
    schema,
    query: document,
    variables,
    operationName,
    // type-graphql's `complexity` field option wins over the estimate.
    estimators: [fieldExtensionsEstimator(), listAwareEstimator, simpleEstimator({ defaultComplexity: 1 })],
  });
}

/**
 * Tokens, depth, aliases and directives of one document, checked before Apollo sees it (Apollo's
 * plugin hooks before validation cannot answer with a client error, and the standard validation
 * rules should never see an oversized document). Null when within limits or not parseable (Apollo
 * then reports the syntax error with its location).
 */
export function checkDocument(schema: GraphQLSchema, query: string, limits: QueryLimits): GraphQLError | null {
  if (exceedsTokens(query, limits.maxTokens)) {
    return tooComplex(`Query has more than ${limits.maxTokens} tokens, the limit of this server.`, 'tokens');
  }
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens });
  } catch {
    return null;
  }
  const [first] = validate(schema, document, shapeRules(limits), { maxErrors: 1 });
  return first ?? null;
}

/** The Apollo plugin for the cost limit, which needs the operation and its variables. */
export function costLimitPlugin(limits: QueryLimits): ApolloServerPlugin {
  // The verdict depends only on the document, the operation and the variables, and clients send the
  // same few again and again: walk each combination once (0.6 ms a request for the bench's feature
  // pages). Long keys (big variables) are not kept.
  const verdicts = new Map<string, GraphQLError | null>();
  const MAX_KEY = 16 << 10;
  const MAX_ENTRIES = 1000;
  const verdict = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>, operationName: string | undefined) => {
    // Variables that do not coerce: execution reports them (BAD_USER_INPUT) before running anything.
    if (getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 }).errors) return null;
    let cost: number;
    try {
      cost = queryCost(schema, document, variables, operationName);
    } catch (err) {
      // E.g. fragments that expand past graphql-query-complexity's 10,000 nodes.
      if (err instanceof GraphQLError) return tooComplex(err.message, 'cost');
      throw err;
    }
    if (cost > limits.maxCost) {
      return tooComplex(
        `Query cost ${cost} exceeds the limit of ${limits.maxCost}: a list counts its fields \`first\` times (${DEFAULT_LIST_SIZE} when it takes no page size); ask for smaller pages or fewer fields.`,
        'cost',
      );
    }
    return null;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operation, operationName, source }) {
          if (!operation) return;
          const variables = request.variables ?? {};
          let key: string | null = `${operationName ?? ''}\u0000${JSON.stringify(variables)}\u0000${source}`;
          if (key.length > MAX_KEY) key = null;
          let refused = key !== null ? verdicts.get(key) : undefined;
          if (refused === undefined) {
            refused = verdict(schema, document, operation, variables, operationName ?? undefined);
            if (key !== null) {
              if (verdicts.size >= MAX_ENTRIES) verdicts.delete(verdicts.keys().next().value!);
              verdicts.set(key, refused);
            }
          }
          // A fresh error each time: Apollo may decorate the one it gets.
          if (refused) throw tooComplex(refused.message, String(refused.extensions.limit));
        },
      };
    },
  };
}
