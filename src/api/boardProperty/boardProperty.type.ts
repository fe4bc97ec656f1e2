import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType, EdgeType } from '../common/connection.js';
import { GameId } from '../game/game.type.js';
import type { BoardPropertyRecord } from '../../services/records.js';

@ObjectType({ description: 'A board state property (BSP): one cell × class of a family, e.g. "white knight on f3", "d4 is mine"' })
export class BoardProperty implements Omit<BoardPropertyRecord, 'id' | 'bestF1'> {
  @Field(() => ID)
  id!: number;

  @Field(() => String)
  game!: string;

  @Field(() => String, { description: 'Family short name, e.g. board_state, valid_moves, pinned' })
  family!: string;

  @Field(() => String, { description: "The paper's function name of the family" })
  familyFunction!: string;

  @Field(() => String, { description: 'board_state, strategy or other' })
  group!: string;

  @Field(() => Int)
  cellIndex!: number;

  @Field(() => Int)
  row!: number;

  @Field(() => Int)
  column!: number;

  @Field(() => Int)
  classIndex!: number;

  @Field(() => String, { nullable: true, description: 'e.g. "f3"; null for whole-board properties' })
  square!: string | null;

  @Field(() => String)
  className!: string;

  @Field(() => String, { description: 'Readable name, e.g. "white knight on f3"' })
  name!: string;

  @Field(() => Boolean, { description: 'Left out of coverage (the mask class of its family)' })
  masked!: boolean;
}

@ObjectType()
export class BoardPropertyEdge extends EdgeType(BoardProperty) {}

@ObjectType()
export class BoardPropertyConnection extends ConnectionType(BoardPropertyEdge) {}

@InputType()
export class BoardPropertyFilter {
  @Field(() => GameId, { nullable: true })
  game?: GameId | null;

  @Field(() => String, { nullable: true, description: 'Family short or code name' })
  family?: string | null;

  @Field(() => String, { nullable: true, description: 'board_state, strategy or other' })
  group?: string | null;

  @Field(() => String, { nullable: true })
  square?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true: some final SAE checkpoint has a feature with F1 ≥ 0.5 for it; false: none has' })
  covered?: boolean | null;

  @Field(() => Float, { nullable: true })
  minBestF1?: number | null;
}

export enum BoardPropertyOrder {
  ID = 'ID',
  BEST_F1 = 'BEST_F1',
}
registerEnumType(BoardPropertyOrder, { name: 'BoardPropertyOrder' });
