import { ArgsType, Field, Int } from 'type-graphql';

/** Forward pagination arguments of every connection field. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size, 0–100 (default 20)' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page' })
  after?: string | null;
}
