import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const workspace = join(import.meta.dirname, '..', '..', '..', '..');
const committed = join(workspace, 'libs', 'shared', 'proto', 'src', 'generated');

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

describe('libs/shared/proto generated code', () => {
  let scratch: string | undefined;
  afterAll(() => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined));

  it('is exactly what proto/ generates (run `npm run proto:generate` after editing proto/)', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'loupe-proto-'));
    await promisify(execFile)('npx', ['buf', 'generate', '--output', scratch], { cwd: workspace });
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'tools/proto/embed-descriptor-set.ts', scratch], { cwd: workspace });
    const fresh = join(scratch, 'libs', 'shared', 'proto', 'src', 'generated');
    const [expectedFiles, actualFiles] = await Promise.all([listFiles(fresh), listFiles(committed)]);
    expect(actualFiles).toEqual(expectedFiles);
    for (const file of expectedFiles) {
      const [expected, actual] = await Promise.all([readFile(join(fresh, file), 'utf8'), readFile(join(committed, file), 'utf8')]);
      expect(actual, `${file} differs from what proto/ generates`).toBe(expected);
    }
  }, 60_000);
});
