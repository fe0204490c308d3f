import { join } from 'node:path';
import { documentedKeys } from '@loupe/config';
import { describe, expect, it } from 'vitest';
import { cloudEnvSchema } from './cloud-config';

describe('docs/configuration.md', () => {
  it('documents exactly the settings the cloud reads', async () => {
    const docs = join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'configuration.md');
    expect((await documentedKeys(docs, 'Cloud')).sort()).toEqual(Object.keys(cloudEnvSchema.shape).sort());
  });
});
