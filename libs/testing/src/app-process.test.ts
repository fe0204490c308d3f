import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppProcess } from './app-process';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function app(source: string) {
  const dir = await mkdtemp(join(tmpdir(), 'loupe-app-process-'));
  dirs.push(dir);
  await writeFile(join(dir, 'main.ts'), source);
  await writeFile(join(dir, 'tsconfig.json'), '{}');
  // Run from the workspace, where tsx is installed; the entry may live anywhere.
  const workspace = join(import.meta.dirname, '..', '..', '..');
  return new AppProcess({ name: 'fixture', cwd: workspace, entry: join(dir, 'main.ts'), tsconfig: join(dir, 'tsconfig.json'), env: process.env });
}

describe('AppProcess', () => {
  it('resolves with the awaited log entry', async () => {
    const running = await app(`console.log(JSON.stringify({ msg: 'ready', port: 1234 }));`);
    await expect(running.waitForLog('ready')).resolves.toMatchObject({ port: 1234 });
    expect(await running.exited).toBe(0);
  });

  it('says how a process that died before the awaited line ended, with its last output', async () => {
    const dying = await app(`console.log('starting'); console.error('GRPC_PORT 1234 is taken'); process.exit(1);`);
    await expect(dying.waitForLog('ready')).rejects.toThrow(/fixture exited with code 1 before "ready"; its last output:\nstarting\nGRPC_PORT 1234 is taken/);
  });
});
