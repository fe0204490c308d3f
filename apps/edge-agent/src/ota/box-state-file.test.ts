import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BoxStateFile, FRESH_BOX } from './box-state-file';

const V2 = { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64), manifestPath: '/models/versions/pcb-aoi/2/manifest.json' };

describe('BoxStateFile', () => {
  let directory: string;
  let path: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'loupe-state-'));
    path = join(directory, 'state.json');
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('starts a box without a state file fresh', async () => {
    expect(await new BoxStateFile(path, pino({ level: 'silent' })).load()).toEqual(FRESH_BOX);
  });

  it('keeps every change across a restart, leaving no temporary file behind', async () => {
    const file = new BoxStateFile(path, pino({ level: 'silent' }));
    await file.load();
    await file.change((state) => ({ ...state, active: V2, settledGeneration: 4 }));
    await file.change((state) => ({ ...state, probation: { model: V2, startedAt: 1_700_000_000_000, crashes: 1 } }));
    expect(await new BoxStateFile(path, pino({ level: 'silent' })).load()).toMatchObject({
      active: V2,
      settledGeneration: 4,
      probation: { crashes: 1 },
    });
    expect(await readdir(directory)).toEqual(['state.json']);
  });

  it('writes changes in the order they were made, even when not awaited one by one', async () => {
    const file = new BoxStateFile(path, pino({ level: 'silent' }));
    await file.load();
    await Promise.all([1, 2, 3].map((generation) => file.change((state) => ({ ...state, settledGeneration: generation }))));
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ settledGeneration: 3 });
  });

  it('treats an unreadable state file as a fresh box, so MODEL_MANIFEST serves', async () => {
    await writeFile(path, '{"active": {"name": "pcb-aoi"}');
    expect(await new BoxStateFile(path, pino({ level: 'silent' })).load()).toEqual(FRESH_BOX);
  });
});
