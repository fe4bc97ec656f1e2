#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { codeVersionString } from '../version.js';
import { EXIT_USAGE, reportAndExit } from './action.js';
import { groupsFor } from './commands/index.js';
import { installInterruptHandling } from './signals.js';

export async function buildProgram(argv: readonly string[] = process.argv.slice(2)): Promise<Command> {
  const program = new Command('saeboard')
    .description('Analysis server and feature database for SAEs trained on board-game language models')
    .version(codeVersionString(), '-V, --version')
    .option('--verbose', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .hook('preAction', (cmd) => {
      if (cmd.opts().verbose) process.env.SAEBOARD_DEBUG = '1';
    });
  for (const register of await groupsFor(argv)) register(program);
  program.commands.forEach(function exitOverrideAll(c: Command): void {
    c.exitOverride();
    c.commands.forEach(exitOverrideAll);
  });
  program.exitOverride();
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  installInterruptHandling();
  const program = await buildProgram(argv.slice(2));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (unknown command, bad option, --help, ...)
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    reportAndExit(err);
  }
}

// Run when executed directly (`tsx src/cli/main.ts`); bin/saeboard.js imports and calls main().
const entry = process.argv[1] ? (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href : '';
if (import.meta.url === entry) await main();
