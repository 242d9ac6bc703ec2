import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { infrastructureNote } from '../../../../lab/demo/infra-note.js';

describe('infrastructureNote', () => {
  const redis = { url: 'redis://127.0.0.1:6379', outcome: 'reused' as const };

  test('a broker the demo started: still running, and the command that stops it', () => {
    assert.deepEqual(infrastructureNote({ brokers: '127.0.0.1:9092', outcome: 'started', pid: 42 }, redis), [
      'Kafka is still running at 127.0.0.1:9092 (pid 42): this demo started it and left it for the next run. Stop it with: npm run infra:down',
    ]);
    assert.match(
      infrastructureNote({ brokers: '127.0.0.1:29092', outcome: 'started' }, redis)[0]!,
      /Stop it with: KAFKA_LOCAL_PORT=29092 npm run infra:down$/,
    );
  });

  test('a reused or external broker, and a Redis the demo started', () => {
    assert.match(
      infrastructureNote({ brokers: '127.0.0.1:9092', outcome: 'reused' }, redis)[0]!,
      /running before the demo/,
    );
    const lines = infrastructureNote(
      { brokers: 'kafka.prod:9092', outcome: 'external' },
      { url: 'redis://127.0.0.1:6390', outcome: 'started' },
    );
    assert.match(lines[0]!, /neither started nor stopped it/);
    assert.match(lines[1]!, /Stop it with: redis-cli -p 6390 shutdown nosave/);
  });
});
