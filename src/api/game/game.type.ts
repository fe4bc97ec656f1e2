import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum GameId {
  othello = 'othello',
  chess = 'chess',
}
registerEnumType(GameId, { name: 'GameId', description: 'The board games saeboard knows' });

@ObjectType({ description: 'A board game, with its tokenizer and what is registered for it' })
export class Game {
  @Field(() => GameId)
  id!: GameId;

  @Field(() => Int, { description: 'Number of tokens of the LM vocabulary' })
  vocabSize!: number;

  @Field(() => String, { description: 'Tokenizer id, e.g. "othello-61", "chess-char-32"' })
  tokenizer!: string;

  @Field(() => String)
  description!: string;
}
