import type pg from 'pg';
import { createLoaders, type Loaders } from '../services/loaders.js';

export interface Context {
  pool: pg.Pool;
  loaders: Loaders;
  requestId: string;
}

export function createContext(pool: pg.Pool, requestId: string): Context {
  return { pool, loaders: createLoaders(pool), requestId };
}
