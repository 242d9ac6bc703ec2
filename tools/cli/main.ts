/**
 * `smae`: the operator's command line. Each subcommand lives in its own module under `commands/`
 * and registers itself on the program; this file only wires them and turns errors into one line.
 */
import { Command, CommanderError } from 'commander';
import { describeError } from '../../shared/errors.js';
import { exitCodeFor } from '../../shared/ops/lifecycle.js';
import { registerEval } from './commands/eval.js';
import { registerInit } from './commands/init.js';
import { registerProduce } from './commands/produce.js';
import { registerFlags } from './commands/flags.js';
import { registerScore } from './commands/score.js';
import { registerTrain } from './commands/train.js';
import { registerModels } from './commands/models.js';
import { registerAlerts } from './commands/alerts.js';
import { registerReport } from './commands/report.js';
import { registerAdapt } from './commands/adapt.js';
import { registerKeys } from './commands/keys.js';

const program = new Command('smae')
  .description('SparseMetaAE: streaming anomaly detection on Kafka with a sparse autoencoder')
  .showHelpAfterError()
  .exitOverride();

for (const register of [
  registerInit,
  registerEval,
  registerScore,
  registerTrain,
  registerModels,
  registerAdapt,
  registerAlerts,
  registerProduce,
  registerFlags,
  registerReport,
  registerKeys,
])
  register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode);
  }
  process.stderr.write(`smae: ${describeError(err)}\n`);
  process.exit(exitCodeFor(err));
}
