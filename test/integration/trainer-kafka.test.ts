/**
 * Training from a Kafka topic against the real broker: the last-N read (split over partitions, ordered
 * by partition then offset, undecodable records skipped), and the promise that a topic and a CSV file
 * holding the same rows in the same order give the same model for the same seed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecord, recordSchemaForColumns, RecordDecoder } from '../../shared/avro/index.js';
import { readLastRecords, runTraining, splitLast } from '../../shared/training/index.js';
import { testPort, testProducer, uniqueTopic } from '../helpers/infra.js';

const DATA_DIR = process.env['SMAE_DATA_DIR'] ?? join(import.meta.dirname, '../../../shared/data');

describe('splitLast', () => {
  test('equal shares, capped by what a partition holds, leftovers to the lowest partitions', () => {
    assert.deepEqual(splitLast([10, 10, 10], 9), [3, 3, 3]);
    assert.deepEqual(splitLast([10, 10, 10], 10), [4, 3, 3]);
    assert.deepEqual(splitLast([2, 10, 0], 9), [2, 7, 0]);
    assert.deepEqual(splitLast([2, 3], 100), [2, 3]);
    assert.deepEqual(splitLast([5, 5], 0), [0, 0]);
  });
});

describe('training from Kafka', () => {
  test('reads the last N records across partitions, in partition/offset order, skipping bad ones', async (t) => {
    const topic = await uniqueTopic(t, { prefix: 'trainer-last', partitions: 3 });
    const type = recordSchemaForColumns({ name: 'Row', numeric: ['a', 'b'] });
    const producer = await testProducer(t);
    const messages = (partition: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ partition, value: encodeRecord(type, { a: partition, b: i }) }));
    await producer.send({ topic, acks: -1, messages: messages(0, 10) });
    await producer.send({ topic, acks: -1, messages: messages(1, 5) });
    await producer.send({
      topic,
      acks: -1,
      messages: [{ partition: 1, value: Buffer.from([0xff, 0xff, 0xff]) }],
    });

    const read = await readLastRecords({
      kafka: testPort('trainer-test'),
      topic,
      last: 8,
      decoder: new RecordDecoder({ readerSchema: type, wireFormat: 'raw' }),
      timeoutMs: 60_000,
    });
    assert.deepEqual(
      read.plan.map((p) => [p.partition, p.start, p.high, p.take]),
      [
        [0, 6, 10, 4],
        [1, 2, 6, 4],
        [2, 0, 0, 0],
      ],
    );
    assert.deepEqual(
      read.records.map((r) => [r.partition, r.offset, r.value['b']]),
      [
        [0, 6, 6],
        [0, 7, 7],
        [0, 8, 8],
        [0, 9, 9],
        [1, 2, 2],
        [1, 3, 3],
        [1, 4, 4],
      ],
    );
    assert.deepEqual(
      read.skipped.map((s) => [s.partition, s.offset, s.code]),
      [[1, 5, 'DECODE_FAILED']],
    );
  });

  test('a topic and a CSV file with the same rows give the same model for the same seed', async (t) => {
    // The first 240 rows of thyroid.csv, split 80/80/80 over three partitions in file order, so that
    // partition-then-offset order is file order.
    const text = await readFile(join(DATA_DIR, 'thyroid.csv'), 'utf8');
    const lines = text.trim().split('\n');
    const header = lines[0]!.split(',');
    const body = lines.slice(1, 241);
    const dir = await mkdtemp(join(tmpdir(), 'smae-trainer-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const csvPath = join(dir, 'rows.csv');
    await writeFile(csvPath, `${[lines[0], ...body].join('\n')}\n`);

    const type = recordSchemaForColumns({ name: 'Thyroid', numeric: header });
    const topic = await uniqueTopic(t, { prefix: 'trainer-same', partitions: 3 });
    const producer = await testProducer(t);
    await producer.send({
      topic,
      acks: -1,
      messages: body.map((line, i) => {
        const cells = line.split(',').map(Number);
        const value = Object.fromEntries(header.map((h, j) => [h, cells[j]!]));
        return { partition: Math.floor(i / 80), value: encodeRecord(type, value) };
      }),
    });

    const common = {
      pipeline: 'same-model',
      registry: null,
      labelColumn: 'label',
      epochs: 3,
      batchSize: 16,
      seed: 42,
      backend: 'cpu' as const,
      profile: 'report' as const,
    };
    const fromCsv = await runTraining({ ...common, source: { kind: 'csv', path: csvPath } });
    const fromTopic = await runTraining({
      ...common,
      source: {
        kind: 'topic',
        topic,
        last: 240,
        kafka: testPort('trainer-test'),
        decoder: new RecordDecoder({ readerSchema: type, wireFormat: 'raw' }),
        timeoutMs: 60_000,
      },
    });
    assert.equal(fromTopic.rows, 240);
    assert.equal(fromCsv.rows, 240);
    assert.deepEqual(fromTopic.columns, fromCsv.columns);
    assert.ok(!fromTopic.columns.includes('label'), 'the label is never a feature');
    const a = fromCsv.artifact.manifest;
    const b = fromTopic.artifact.manifest;
    assert.equal(b.threshold.value, a.threshold.value);
    assert.deepEqual(b.preprocessing, a.preprocessing);
    assert.deepEqual(b.training.lossHistory, a.training.lossHistory);
    assert.ok(
      Buffer.from(fromTopic.artifact.weights).equals(Buffer.from(fromCsv.artifact.weights)),
      'identical weight bytes',
    );
    assert.match(b.training.source, /^kafka:/);
    assert.match(a.training.source, /^csv:/);
  });
});
