/** Relay connection types (https://relay.dev/graphql/connections.htm) shared by every list. */
import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

@ObjectType({ description: 'Relay page information. Lists are keyset-paginated: pass endCursor as `after` for the next page.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: 'Always false: lists page forward only' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export function EdgeType<TNode extends object>(nodeType: ClassType<TNode>) {
  @ObjectType()
  abstract class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: TNode;
  }
  return Edge;
}

export function ConnectionType<TEdge extends object>(edgeType: ClassType<TEdge>) {
  @ObjectType()
  abstract class Connection {
    @Field(() => [edgeType])
    edges!: TEdge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { nullable: true, description: 'Rows matching the filter, where cheap to count (else null)' })
    totalCount!: PromiseLike<number | null>;
  }
  return Connection;
}
