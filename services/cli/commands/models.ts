import type { Command } from 'commander';

/** Placeholder: replaced by the module that implements `smae models`. */
export function registerModels(program: Command): void {
  program.command('models').description('(not implemented yet)');
}
