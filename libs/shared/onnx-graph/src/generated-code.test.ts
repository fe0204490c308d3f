import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const workspace = join(import.meta.dirname, '..', '..', '..', '..');
const generated = join('libs', 'shared', 'onnx-graph', 'src', 'generated', 'onnx', 'onnx.ts');

describe('libs/shared/onnx-graph generated code', () => {
  let scratch: string | undefined;
  afterAll(() => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined));

  it('is exactly what onnx.proto generates (run `npm run proto:generate` after changing it)', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'loupe-onnx-proto-'));
    await promisify(execFile)('npx', ['buf', 'generate', '--template', 'libs/shared/onnx-graph/buf.gen.yaml', '--output', scratch], { cwd: workspace });
    const [expected, actual] = await Promise.all([readFile(join(scratch, generated), 'utf8'), readFile(join(workspace, generated), 'utf8')]);
    expect(actual, `${generated} differs from what onnx.proto generates`).toBe(expected);
  }, 60_000);
});
