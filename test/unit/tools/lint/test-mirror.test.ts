import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mirroredSource, unmirroredTests } from '../../../../tools/lint/test-mirror.js';

const ROOT = join(import.meta.dirname, '../../../..');

describe('test-mirror', () => {
  test('maps test files to the sources they mirror', () => {
    assert.equal(mirroredSource('test/unit/scoring/batch.test.ts'), 'shared/scoring/batch.ts');
    assert.equal(mirroredSource('test/unit/random.test.ts'), 'shared/random.ts');
    assert.equal(
      mirroredSource('test/unit/services/alerts/delivery.shutdown.test.ts'),
      'services/alerts/delivery.ts',
    );
    assert.equal(mirroredSource('test/unit/lab/eval/split.test.ts'), 'lab/eval/split.ts');
    assert.equal(mirroredSource('test/unit/helpers/wait.test.ts'), 'test/helpers/wait.ts');
  });

  test('every unit test file of the repository mirrors a source that exists', () => {
    assert.deepEqual(unmirroredTests(ROOT), []);
  });
});
