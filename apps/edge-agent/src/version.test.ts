import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_VERSION } from './version';

describe('AGENT_VERSION', () => {
  it('is the product version from the root package.json', async () => {
    const rootPackage = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(AGENT_VERSION).toBe(rootPackage.version);
  });
});
