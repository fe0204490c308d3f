import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../storage/file-system';
import { SimulatedDisk } from '../testing/simulated-disk';
import { BoxStateFile, FRESH_BOX, type PersistedBoxState } from './box-state-file';

const logger = pino({ level: 'silent' });
const V2 = { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64), manifestPath: '/models/versions/pcb-aoi/2/manifest.json' };
const activateV2 = (state: PersistedBoxState): PersistedBoxState => ({ ...state, active: V2, settledGeneration: 4 });

describe('BoxStateFile', () => {
  let directory: string;
  let path: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'loupe-state-'));
    path = join(directory, 'state.json');
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('starts a box without a state file fresh', async () => {
    expect(await new BoxStateFile(path, logger, nodeFileSystem).load()).toEqual(FRESH_BOX);
  });

  it('keeps every change across a restart, leaving no temporary file behind', async () => {
    const file = new BoxStateFile(path, logger, nodeFileSystem);
    await file.load();
    await file.change(activateV2);
    await file.change((state) => ({ ...state, probation: { model: V2, startedAt: 1_700_000_000_000, crashes: 1 } }));
    expect(await new BoxStateFile(path, logger, nodeFileSystem).load()).toMatchObject({
      active: V2,
      settledGeneration: 4,
      probation: { crashes: 1 },
    });
    expect(await readdir(directory)).toEqual(['state.json']);
  });

  it('writes changes in the order they were made, even when not awaited one by one', async () => {
    const file = new BoxStateFile(path, logger, nodeFileSystem);
    await file.load();
    await Promise.all([1, 2, 3].map((generation) => file.change((state) => ({ ...state, settledGeneration: generation }))));
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ settledGeneration: 3 });
  });

  it('treats an unreadable state file as a fresh box, so MODEL_MANIFEST serves', async () => {
    await writeFile(path, '{"active": {"name": "pcb-aoi"}');
    expect(await new BoxStateFile(path, logger, nodeFileSystem).load()).toEqual(FRESH_BOX);
  });

  it('changes memory only once a change is durable: a failed write at any step leaves memory with the disk and no temporary file', async () => {
    const recording = await SimulatedDisk.over(directory);
    const recorded = new BoxStateFile(path, logger, recording);
    await recorded.load();
    const before = recording.steps.length;
    await recorded.change(activateV2);
    const steps = recording.steps.slice(before).map((step) => step.kind);
    expect(steps).toEqual(['open', 'write', 'sync', 'rename', 'sync-directory']);

    for (const [index, kind] of steps.entries()) {
      for (const code of ['ENOSPC', 'EDQUOT', 'EIO']) {
        await rm(path, { force: true });
        const disk = await SimulatedDisk.over(directory, { failAt: { step: before + index, code } });
        const file = new BoxStateFile(path, logger, disk);
        await file.load();
        await expect(file.change(activateV2), `${code} at ${kind}`).rejects.toMatchObject({ code });
        expect(file.current).toEqual(FRESH_BOX);
        expect(await readdir(directory), `${code} at ${kind}`).not.toContain('state.json.tmp');
        // The next change starts from what is durable, and goes through.
        await file.change((state) => ({ ...state, settledGeneration: 9 }));
        expect(file.current).toEqual({ ...FRESH_BOX, settledGeneration: 9 });
      }
    }
  });

  it('leaves the old state or the new one, never a mix, when the power goes at any step of a change', async () => {
    const recording = await SimulatedDisk.over(directory);
    const first = new BoxStateFile(path, logger, recording);
    await first.load();
    await first.change((state) => ({ ...state, settledGeneration: 3 }));
    const before = recording.steps.length;
    await first.change(activateV2);
    const total = recording.steps.length;
    const outcomes = new Set<string>();
    for (let step = 0; step <= total; step++) {
      await rm(directory, { recursive: true, force: true });
      const disk = await SimulatedDisk.over(directory, { crashAt: step });
      const file = new BoxStateFile(path, logger, disk);
      await file.load().then(() => file.change((state) => ({ ...state, settledGeneration: 3 }))).then(() => file.change(activateV2), () => undefined).catch(() => undefined);
      await disk.reboot();
      const after = await new BoxStateFile(path, logger, nodeFileSystem).load();
      if (step >= before) expect([3, 4]).toContain(after.settledGeneration);
      outcomes.add(after.active ? 'new' : after.settledGeneration === 3 ? 'old' : 'fresh');
    }
    expect([...outcomes].sort()).toEqual(['fresh', 'new', 'old']);
  });
});
