import type { Command } from 'commander';
import { register as registerDb } from './db.js';
import { register as registerServer } from './server.js';
import { register as registerGames } from './games.js';
import { register as registerEval } from './eval.js';
import { register as registerLm } from './lm.js';
import { register as registerSae } from './sae.js';

/**
 * Every command group registers itself here: one file per group under src/cli/commands/, each
 * exporting `register(program)`. Add a group by importing it and appending it to this list.
 */
export const commandGroups: ((program: Command) => void)[] = [registerServer, registerDb, registerGames, registerEval, registerLm, registerSae];
