import { Field, ID, ObjectType } from 'type-graphql';
import { DateTime } from '../common/scalars.js';

@ObjectType({ description: 'An API key as its holder may see it (never the token)' })
export class ApiKeyInfo {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The name given at `saeboard apikey create --name`' })
  name!: string;

  @Field(() => String, { description: 'The token\'s first characters, e.g. "sbk_Ab12Cd"' })
  prefix!: string;

  @Field(() => DateTime, { description: 'When the key was created' })
  createdAt!: Date;
}
