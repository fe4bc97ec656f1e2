import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every command group: its top-level command names and a loader for its module
 * (src/cli/commands/<group>.ts exporting `register(program)`). Groups load lazily: `saeboard games …`
 * imports only the games group, so it does not pay for TensorFlow.js or the GraphQL schema.
 * Add a group by appending an entry.
 */
export const commandGroups: { commands: string[]; load: () => Promise<{ register: Register }> }[] = [
  { commands: ['serve'], load: () => import('./server.js') },
  { commands: ['migrate', 'db:status', 'db'], load: () => import('./db.js') },
  { commands: ['games'], load: () => import('./games.js') },
  { commands: ['lm'], load: () => import('./lm.js') },
  { commands: ['sae'], load: () => import('./sae.js') },
  { commands: ['eval'], load: () => import('./eval.js') },
  { commands: ['worker', 'seed', 'jobs'], load: () => import('./jobs.js') },
  { commands: ['apikey'], load: () => import('./apikey.js') },
  { commands: ['doctor'], load: () => import('./doctor.js') },
  { commands: ['reproduce'], load: () => import('./reproduce.js') },
];

/** The registration functions needed for `argv`: one group when its command is named, else all (help, typos). */
export async function groupsFor(argv: readonly string[]): Promise<Register[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  const named = commandGroups.filter((g) => first !== undefined && g.commands.includes(first));
  const groups = named.length ? named : commandGroups;
  return (await Promise.all(groups.map((g) => g.load()))).map((m) => m.register);
}
