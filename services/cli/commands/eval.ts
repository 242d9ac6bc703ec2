import type { Command } from 'commander';

/** Placeholder: replaced by the module that implements `smae eval`. */
export function registerEval(program: Command): void {
  program.command('eval').description('(not implemented yet)');
}
