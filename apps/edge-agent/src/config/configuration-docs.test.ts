import { join } from 'node:path';
import { documentedKeys } from '@loupe/config';
import { describe, expect, it } from 'vitest';
import { agentEnvSchema } from './agent-config';

describe('docs/configuration.md', () => {
  it('documents exactly the settings the edge agent reads', async () => {
    const docs = join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'configuration.md');
    expect((await documentedKeys(docs, 'Edge agent')).sort()).toEqual(Object.keys(agentEnvSchema.shape).sort());
  });
});
