import type { Command } from 'commander';

/** Placeholder: replaced by the module that implements `smae score`. */
export function registerScore(program: Command): void {
  program.command('score').description('(not implemented yet)');
}
