/**
 * `smae keys generate`: an Ed25519 key pair for signing models (`shared/registry/signing.ts`).
 *
 *   smae keys generate --out keys/ --name trainer-2026
 *
 * writes `<out>/<name>.key` (private, mode 0600: give it to publishers as SMAE_SIGNING_KEY_FILE or as the
 * secret SMAE_SIGNING_KEY) and `<out>/<name>.pub` (give it to every reader in SMAE_TRUSTED_KEYS), and
 * prints the key id that signed versions carry. Never overwrites a key without `--force`.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { parseOptions } from '../options.js';
import { writeSigningKeyPair } from '../../../shared/registry/signing.js';

const GenerateSchema = z.object({
  out: z.string().min(1),
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore'),
  force: z.boolean(),
  json: z.boolean(),
});

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('model-signing keys');
  keys
    .command('generate')
    .description('write an Ed25519 key pair: <out>/<name>.key (private) and <out>/<name>.pub')
    .option('--out <dir>', 'directory to write the pair into', '.')
    .option('--name <name>', 'file name of the pair', 'smae-signing')
    .option('--force', 'overwrite an existing pair', false)
    .option('--json', 'machine-readable output', false)
    .action((raw: Record<string, unknown>) => {
      const opts = parseOptions(GenerateSchema, raw);
      const pair = writeSigningKeyPair(opts.out, opts.name, { force: opts.force });
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ keyId: pair.keyId, privateKeyFile: pair.privateKeyFile, publicKeyFile: pair.publicKeyFile })}\n`
          : `key id ${pair.keyId}\n` +
              `  private ${pair.privateKeyFile} (mode 0600): SMAE_SIGNING_KEY_FILE for the trainer and adapter\n` +
              `  public  ${pair.publicKeyFile}: add to SMAE_TRUSTED_KEYS of every scorer, adapter and CLI\n`,
      );
    });
}
