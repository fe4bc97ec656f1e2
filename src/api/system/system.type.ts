import { Field, Float, Int, ObjectType } from 'type-graphql';
import type * as system from '../../services/system.service.js';

@ObjectType({ description: 'Code and compute versions of this server' })
export class VersionInfo implements system.VersionInfo {
  @Field(() => String, { description: 'saeboard package version' })
  version!: string;

  @Field(() => String, { nullable: true, description: 'git commit of the running code (with -dirty for local changes), if known' })
  commit!: string | null;

  @Field(() => String, { description: 'Active compute backend, e.g. "wasm+native" or "tfjs-node-gpu"' })
  backend!: string;

  @Field(() => String, { description: 'Kernel overrides in use, e.g. "openblas(BatchMatMul,_FusedMatMul)"' })
  kernels!: string;

  @Field(() => String, { nullable: true, description: 'Backend details (BLAS core, threads, ...)' })
  backendDetail!: string | null;

  @Field(() => String, { description: 'Node.js version' })
  node!: string;
}

@ObjectType({ description: 'Liveness and database reachability' })
export class ServerStatus implements system.ServerStatus {
  @Field(() => Boolean)
  ok!: boolean;

  @Field(() => Boolean)
  database!: boolean;

  @Field(() => Float, { description: 'Round trip of a trivial query, ms' })
  databaseLatencyMs!: number;

  @Field(() => Int, { description: 'Applied database migrations' })
  migrations!: number;

  @Field(() => Float)
  uptimeSeconds!: number;
}
