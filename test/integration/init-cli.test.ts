/**
 * `smae init` as a user runs it (a child process) on Avro records already on a topic — Confluent-framed,
 * writer schemas resolved from a directory of `<id>.avsc` files — against the real broker; and its
 * promise never to overwrite an edited file without `--force`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRecord, parseSchema } from '../../shared/avro/index.js';
import { EXIT_CODES } from '../../shared/ops/lifecycle.js';
import { testProducer, uniquePipeline, uniqueTopic } from '../helpers/infra.js';
import { smae, workDir } from '../helpers/smae.js';

const SCHEMA = {
  type: 'record',
  name: 'Payment',
  namespace: 'shop',
  fields: [
    { name: 'payment_id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'items', type: 'int' },
    { name: 'card_present', type: 'boolean' },
    { name: 'channel', type: { type: 'enum', name: 'Channel', symbols: ['web', 'app', 'pos'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
  ],
};

describe('smae init', () => {
  test('samples Confluent-framed records on a topic; re-running keeps edits unless --force', async (t) => {
    const topic = await uniqueTopic(t, { prefix: 'init-src', partitions: 2 });
    const { name: pipeline } = uniquePipeline(t, 'init');
    const dir = await workDir(t, 'smae-init-');
    const ids = join(dir, 'ids');
    await mkdir(ids);
    await writeFile(join(ids, '12.avsc'), JSON.stringify(SCHEMA));
    await writeFile(join(dir, 'payment.avsc'), JSON.stringify(SCHEMA));
    const type = parseSchema(JSON.stringify(SCHEMA));
    const producer = await testProducer(t);
    await producer.send({
      topic,
      messages: Array.from({ length: 120 }, (_, i) => ({
        key: String(i),
        value: encodeRecord(
          type,
          {
            payment_id: `p-${i}`,
            amount: 5 + ((i * 37) % 200) / 3,
            items: 1 + (i % 4),
            card_present: i % 3 === 0,
            channel: ['web', 'app', 'pos'][i % 3],
            tags: i % 2 ? ['a'] : [],
          },
          { schemaId: 12 },
        ),
      })),
    });

    const out = join(dir, 'setup');
    const args = [
      'init',
      '--topic',
      topic,
      '--schema',
      join(dir, 'payment.avsc'),
      '--schema-dir',
      ids,
      '--pipeline',
      pipeline,
      '--out',
      out,
      '--last',
      '100',
    ];
    const first = await smae(args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`kafka:${topic}: 100 rows looked at`));
    assert.match(first.stdout, /numeric\s+amount, items/);
    assert.match(first.stdout, /categorical\s+card_present, channel/);
    assert.match(first.stdout, /key\s+payment_id/);
    assert.match(first.stdout, /tags: holds values that are neither numbers nor text/);
    assert.match(first.stdout, new RegExp(`npx smae train --topic ${topic} --last 50000`));
    const env = await readFile(join(out, 'smae.env'), 'utf8');
    assert.match(env, new RegExp(`^SMAE_INPUT_TOPIC=${topic}$`, 'm'));
    assert.match(env, new RegExp(`^SMAE_SCHEMA_IDS_DIR=${ids}$`, 'm'));
    assert.match(env, /^SMAE_KEY_FIELD=payment_id$/m);
    // The record schema is the records' own.
    assert.deepEqual(JSON.parse(await readFile(join(out, 'record.avsc'), 'utf8')).name, 'shop.Payment');

    const edited = (await readFile(join(out, 'features.json'), 'utf8')).replace('"minmax"', '"standard"');
    await writeFile(join(out, 'features.json'), edited);
    const again = await smae(args);
    assert.equal(again.code, EXIT_CODES.config, again.stderr);
    assert.match(
      again.stderr,
      /features\.json: exists with other content \(your edits\?\): kept; run again with --force/,
    );
    assert.equal(await readFile(join(out, 'features.json'), 'utf8'), edited);

    const forced = await smae([...args, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(await readFile(join(out, 'features.json'), 'utf8'), /"minmax"/);
  });
});
