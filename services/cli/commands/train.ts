import type { Command } from 'commander';

/** Placeholder: replaced by the module that implements `smae train`. */
export function registerTrain(program: Command): void {
  program.command('train').description('(not implemented yet)');
}
