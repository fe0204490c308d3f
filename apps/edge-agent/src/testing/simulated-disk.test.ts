import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedCrash, SimulatedDisk } from './simulated-disk';

/** The crash tests are only as good as this disk's idea of durability, so it is tested on its own. */
describe('SimulatedDisk', () => {
  let base: string;
  let root: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'loupe-simulated-disk-'));
    root = join(base, 'disk');
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  async function write(disk: SimulatedDisk, path: string, text: string, sync: boolean) {
    const file = await disk.open(join(root, path), 'truncate');
    await file.write(Buffer.from(text));
    if (sync) await file.sync();
    await file.close();
  }
  const read = (path: string) => readFile(join(root, path), 'utf8');

  it('counts what was there when it was made as durable', async () => {
    await SimulatedDisk.over(root);
    await writeFile(join(root, 'kept'), 'before');
    await (await SimulatedDisk.over(root)).reboot();
    expect(await read('kept')).toBe('before');
  });

  it('keeps a new file only when its data and its directory were both synced', async () => {
    const disk = await SimulatedDisk.over(root);
    await write(disk, 'synced-file-only', 'a', true);
    await write(disk, 'synced-nothing', 'b', false);
    await disk.syncDirectory(root);
    await write(disk, 'after-directory-sync', 'c', true);
    await disk.reboot();
    expect((await readdir(root)).sort()).toEqual(['synced-file-only', 'synced-nothing']);
    expect(await read('synced-file-only')).toBe('a');
    // Its name was durable, its data never was.
    expect(await read('synced-nothing')).toBe('');
  });

  it('forgets writes after the last sync of a file', async () => {
    const disk = await SimulatedDisk.over(root);
    await write(disk, 'state', 'old', true);
    await disk.syncDirectory(root);
    const file = await disk.open(join(root, 'state'), 'append');
    await file.write(Buffer.from(' and new'));
    await file.close();
    await disk.reboot();
    expect(await read('state')).toBe('old');
  });

  it('keeps the old name until the directory of a rename is synced, and synced data follows the file', async () => {
    const disk = await SimulatedDisk.over(root);
    await write(disk, 'a.tmp', 'content', true);
    await disk.syncDirectory(root);
    await disk.rename(join(root, 'a.tmp'), join(root, 'a'));
    const first = await disk.reboot();
    expect(await readdir(root)).toEqual(['a.tmp']);
    await first.rename(join(root, 'a.tmp'), join(root, 'a'));
    await first.syncDirectory(root);
    await first.reboot();
    expect(await readdir(root)).toEqual(['a']);
    expect(await read('a')).toBe('content');
  });

  it('brings a removed file back until its directory is synced', async () => {
    const disk = await SimulatedDisk.over(root);
    await write(disk, 'sent', 'sample', true);
    await disk.syncDirectory(root);
    await disk.remove(join(root, 'sent'));
    const next = await disk.reboot();
    expect(await read('sent')).toBe('sample');
    await next.remove(join(root, 'sent'));
    await next.syncDirectory(root);
    await next.reboot();
    expect(await readdir(root)).toEqual([]);
  });

  it('keeps a new folder only when its parent was synced', async () => {
    const disk = await SimulatedDisk.over(root);
    await disk.makeDirectory(join(root, 'outbox', 'ready'));
    await write(disk, 'outbox/ready/s1', 'x', true);
    await disk.syncDirectory(join(root, 'outbox', 'ready'));
    const next = await disk.reboot();
    expect(await readdir(root)).toEqual([]);
    await next.makeDirectory(join(root, 'outbox', 'ready'));
    await next.syncDirectory(root);
    await next.syncDirectory(join(root, 'outbox'));
    await next.reboot();
    expect(await readdir(join(root, 'outbox', 'ready'))).toEqual([]);
  });

  it('tells a new file that reuses a removed inode from the file removed', async () => {
    const disk = await SimulatedDisk.over(root);
    for (let round = 0; round < 20; round++) {
      await write(disk, `old-${round}`, `old ${round}`, true);
      await disk.syncDirectory(root);
      await disk.remove(join(root, `old-${round}`));
      await write(disk, `new-${round}`, `new ${round}`, true);
    }
    await disk.reboot();
    const names = await readdir(root);
    // The last sync saw new-0 to new-18 and old-19.
    expect(names.sort()).toEqual([...Array.from({ length: 19 }, (_, round) => `new-${round}`), 'old-19'].sort());
    for (const name of names) expect(await read(name)).toBe(name.replace('-', ' '));
  });

  it('loses power at the chosen step: that step and every later one fail, and the steps before it count', async () => {
    const recording = await SimulatedDisk.over(root);
    await write(recording, 'a', 'a', true);
    await recording.syncDirectory(root);
    expect(recording.steps.map((step) => step.kind)).toEqual(['open', 'write', 'sync', 'sync-directory']);
    const disk = await recording.reboot({ crashAt: 2 });
    const file = await disk.open(join(root, 'b'), 'truncate');
    await file.write(Buffer.from('b'));
    await expect(file.sync()).rejects.toBeInstanceOf(SimulatedCrash);
    expect(disk.crashed).toBe(true);
    await expect(disk.readFile(join(root, 'a'))).rejects.toBeInstanceOf(SimulatedCrash);
    await file.close();
    await disk.reboot();
    expect(await readdir(root)).toEqual(['a']);
  });

  it('fails writes past its capacity with ENOSPC after writing what fits, and says how much is free', async () => {
    const disk = await SimulatedDisk.over(root, { capacityBytes: 10 });
    await write(disk, 'six', '123456', true);
    expect(await disk.freeBytes(root)).toBe(4);
    const file = await disk.open(join(root, 'more'), 'truncate');
    await expect(file.write(Buffer.from('abcdefgh'))).rejects.toMatchObject({ code: 'ENOSPC' });
    await file.close();
    expect(await read('more')).toBe('abcd');
    expect(await disk.freeBytes(root)).toBe(0);
  });

  it('fails the chosen step with an errno code and goes on', async () => {
    const disk = await SimulatedDisk.over(root, { failAt: { step: 1, code: 'EIO' } });
    const file = await disk.open(join(root, 'a'), 'truncate');
    await expect(file.write(Buffer.from('a'))).rejects.toMatchObject({ code: 'EIO' });
    await file.write(Buffer.from('b'));
    await file.close();
    expect(await disk.readFile(join(root, 'a'))).toEqual(Buffer.from('b'));
  });
});
