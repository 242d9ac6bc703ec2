/**
 * Avro through the real broker: records encoded with avsc are produced to a 3-partition topic,
 * consumed back in a consumer group and decoded, and every field of every record must come back equal
 * (strings with non-ASCII text, int/long extremes, float/double, booleans, bytes, enum, fixed, arrays,
 * maps, nullable unions in both branches, a nested record), along with keys and headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { consumeMessages, testProducer, uniqueTopic } from '../helpers/infra.js';

const schema = {
  type: 'record',
  name: 'Transaction',
  namespace: 'dev.smae.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'seq', type: 'int' },
    { name: 'amountCents', type: 'long' },
    { name: 'ratio', type: 'float' },
    { name: 'score', type: 'double' },
    { name: 'approved', type: 'boolean' },
    { name: 'payload', type: 'bytes' },
    { name: 'channel', type: { type: 'enum', name: 'Channel', symbols: ['WEB', 'POS', 'ATM'] } },
    { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 4 } },
    { name: 'features', type: { type: 'array', items: 'double' } },
    { name: 'labels', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
    {
      name: 'merchant',
      type: {
        type: 'record',
        name: 'Merchant',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'mcc', type: ['null', 'int'], default: null },
        ],
      },
    },
  ],
};

interface Transaction {
  id: string;
  seq: number;
  amountCents: number;
  ratio: number;
  score: number;
  approved: boolean;
  payload: Buffer;
  channel: 'WEB' | 'POS' | 'ATM';
  digest: Buffer;
  features: number[];
  labels: Record<string, string>;
  note: string | null;
  merchant: { name: string; mcc: number | null };
}

function makeRecord(i: number): Transaction {
  return {
    id: `tx-${i}-ünïcødé-✓`,
    seq: i === 0 ? -2147483648 : i === 1 ? 2147483647 : i * 7,
    amountCents: i === 2 ? 2 ** 52 + 1 : i === 3 ? -(2 ** 40) : i * 1_000_003,
    // Float fields hold float32 values exactly, so compare against the rounded value.
    ratio: Math.fround(i / 3),
    score: i === 4 ? Number.MIN_VALUE : Math.PI * i,
    approved: i % 2 === 0,
    payload: Buffer.from([0, 255, i % 256, 10, 13]),
    channel: (['WEB', 'POS', 'ATM'] as const)[i % 3] ?? 'WEB',
    digest: Buffer.from([i, i + 1, i + 2, i + 3]),
    features: i === 5 ? [] : [0, -1.5, i / 7, 1e-300],
    labels: i === 6 ? {} : { region: `r${i % 4}`, 'key with spaces': 'välue' },
    note: i % 3 === 0 ? null : `note ${i}`,
    merchant: { name: `merchant-${i % 5}`, mcc: i % 4 === 0 ? null : 5000 + i },
  };
}

/** avsc decodes records as instances of generated classes; compare their fields as plain objects. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || Array.isArray(value))
    return value;
  return { ...(value as Record<string, unknown>) };
}

test('Avro records round-trip through Kafka field by field', async (t) => {
  const type = avro.Type.forSchema(schema as avro.Schema);
  const topic = await uniqueTopic(t, { prefix: 'avro', partitions: 3 });
  const producer = await testProducer(t, { idempotent: true });

  const sent = Array.from({ length: 30 }, (_, i) => makeRecord(i));
  for (const r of sent) assert.ok(type.isValid(r), `record ${r.id} is valid for the schema`);
  await producer.send({
    topic,
    messages: sent.map((r) => ({
      key: r.id,
      value: type.toBuffer(r),
      headers: { 'content-type': 'application/avro', seq: String(r.seq) },
    })),
  });

  const received = await consumeMessages(t, { topic, count: sent.length });
  assert.equal(received.length, sent.length, 'exactly the records sent, no duplicates');
  assert.deepEqual(new Set(received.map((m) => m.partition)).size > 1, true, 'keys spread over partitions');

  const byId = new Map(sent.map((r) => [r.id, r]));
  for (const m of received) {
    assert.ok(m.value !== null && m.key !== null);
    const decoded = type.fromBuffer(m.value) as Transaction;
    const original = byId.get(m.key.toString());
    assert.ok(original !== undefined, `unknown key ${m.key.toString()}`);
    assert.equal(decoded.id, original.id, 'key and record id agree');
    for (const field of schema.fields.map((f) => f.name) as (keyof Transaction)[]) {
      assert.deepEqual(plain(decoded[field]), original[field], `field ${field} of ${original.id}`);
    }
    assert.equal(m.headers?.['content-type']?.toString(), 'application/avro');
    assert.equal(m.headers?.seq?.toString(), String(original.seq));
    byId.delete(original.id);
  }
  assert.equal(byId.size, 0, 'every record came back');
});
