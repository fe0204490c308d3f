import { mkdtemp, open, readdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@loupe/model-package';
import { ModelUpdateStatus } from '@loupe/proto';
import { eventually } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BoxStateFile, FRESH_BOX } from '../ota/box-state-file';
import { SampleOutbox, type OutboxDropReason } from '../samples/sample-outbox';
import { desiredStateOf, pcbAoiPackage, type TestPackage } from '../testing/model-packages';
import { inspectOnce, startOtaAgent, type FleetObserver } from '../testing/ota-harness';
import { startPackageServer, type PackageServer } from '../testing/package-server';
import { mountSmallDisk, whySmallDiskUnavailable, type SmallDisk } from '../testing/small-disk';
import type { TestAgent } from '../testing/test-agent';
import { nodeFileSystem } from './file-system';

const logger = pino({ level: 'silent' });
const registry = generateSigningKey();
const MiB = 1024 * 1024;

const unavailable = await whySmallDiskUnavailable();
if (unavailable) {
  // Said in the output, not only skipped: the simulated-disk legs (sample-outbox, box-state-file and
  // package-download tests) still cover ENOSPC on every machine.
  process.stdout.write(`full-disk.test.ts: the legs on a real small filesystem did not run: ${unavailable}. ENOSPC is still covered on the simulated disk.\n`);
}

async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

/** Fills `disk` to the last byte, as another writer on the box would, even while something else writes to it. */
async function fill(disk: SmallDisk): Promise<void> {
  const filler = await open(join(disk.path, 'filler'), 'w');
  try {
    for (;;) await filler.write(Buffer.alloc(64 * 1024));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await filler.close();
  }
}

describe.runIf(!unavailable)('the box on a real disk that fills up (tmpfs)', () => {
  const disks: SmallDisk[] = [];
  const mount = async (bytes: number) => {
    const disk = await mountSmallDisk(bytes);
    disks.push(disk);
    return disk;
  };
  afterEach(async () => {
    for (const disk of disks.splice(0)) await disk.unmount();
  });

  it('keeps the outbox reserve free, refusing the samples that would eat into it', async () => {
    const disk = await mount(2 * MiB);
    const drops: OutboxDropReason[] = [];
    const outbox = await SampleOutbox.open(
      disk.path,
      { maxBytes: 1 << 30, maxCount: 10_000, maxPendingWrites: 100, maxPendingBytes: 1 << 30, diskReserveBytes: MiB, quarantine: { maxBytes: MiB, maxCount: 10 } },
      { dropped: (_sample, reason) => drops.push(reason), quarantined: () => undefined },
      logger,
    );
    const accepted: boolean[] = [];
    for (let index = 0; index < 20; index++) accepted.push(await outbox.offer({ id: `s${index}`, priority: 0.5, capturedAtMs: 1_700_000_000_000 }, Buffer.alloc(100 * 1024, index)));
    expect(accepted.filter(Boolean).length).toBeGreaterThan(5);
    expect(accepted.slice(accepted.indexOf(false)).every((stored) => !stored)).toBe(true);
    expect(new Set(drops)).toEqual(new Set(['disk_reserve']));
    expect(await freeBytes(disk.path)).toBeGreaterThanOrEqual(MiB);
    await outbox.close();
  });

  it('keeps a state change out of memory when the disk refuses it, and leaves no temporary file', async () => {
    const disk = await mount(MiB);
    const state = new BoxStateFile(join(disk.path, 'state.json'), logger, nodeFileSystem);
    await state.load();
    await fill(disk);
    await expect(state.change((current) => ({ ...current, settledGeneration: 7 }))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(state.current).toEqual(FRESH_BOX);
    expect((await readdir(disk.path)).sort()).toEqual(['filler']);
    await rm(join(disk.path, 'filler'));
    await state.change((current) => ({ ...current, settledGeneration: 7 }));
    expect(await new BoxStateFile(join(disk.path, 'state.json'), logger, nodeFileSystem).load()).toMatchObject({ settledGeneration: 7 });
  });

  describe('OTA', () => {
    let server: PackageServer;
    let workDir: string;
    let v2: TestPackage;
    let running: { agent: TestAgent; fleet: FleetObserver } | undefined;
    beforeAll(async () => {
      server = await startPackageServer();
      workDir = await mkdtemp(join(tmpdir(), 'loupe-full-disk-'));
      v2 = await pcbAoiPackage(workDir, { version: '2', signer: registry });
    });
    afterEach(async () => {
      await running?.fleet.close();
      await running?.agent.stop();
      running = undefined;
    });
    afterAll(async () => {
      await server?.stop();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    async function agentOn(disk: SmallDisk, env: Record<string, string>) {
      running = await startOtaAgent(registry, { MODELS_DIR: join(disk.path, 'models'), OUTBOX_DIR: join(disk.path, 'outbox'), OUTBOX_DISK_RESERVE_BYTES: '0', ...env });
      return running;
    }
    const failed = (fleet: FleetObserver) =>
      eventually(() => {
        expect(fleet.latest).toMatchObject({ status: ModelUpdateStatus.MODEL_UPDATE_STATUS_FAILED, generation: 1 });
        return fleet.latest!;
      }, { timeoutMs: 20_000 });

    it('refuses an update whose package and unpacked copy do not fit with the reserve, before downloading a byte', async () => {
      const disk = await mount(4 * MiB);
      const { agent, fleet } = await agentOn(disk, { OTA_DISK_RESERVE_BYTES: String(MiB) });
      await fleet.desire(desiredStateOf(v2, server.serve(`/fit/${v2.sha256}`, v2.bytes), 1));
      expect((await failed(fleet)).error).toMatch(/^download failed \(disk-full\): the package needs \d+ bytes free under .* \d+ are free$/);
      expect(server.requests.filter((request) => request.path.startsWith('/fit/'))).toEqual([]);
      expect((await inspectOnce(agent.client)).model?.version).toBe('1');
    });

    it('fails an update at once when the disk fills up mid-download, deleting the partial file, and the old model serves', async () => {
      const disk = await mount(8 * MiB);
      const { agent, fleet } = await agentOn(disk, { OTA_DISK_RESERVE_BYTES: '0' });
      const part = join(disk.path, 'models', 'downloads', `${v2.sha256}.tar.part`);
      await fleet.desire(desiredStateOf(v2, server.serve(`/fills/${v2.sha256}`, v2.bytes, { bytesPerSecond: 512 * 1024 }), 1));
      await eventually(async () => expect(await nodeFileSystem.sizeOf(part)).toBeGreaterThan(0), { timeoutMs: 20_000 });
      // Something else on the box takes the space the check saw free.
      await fill(disk);
      expect((await failed(fleet)).error).toMatch(/^download failed \(disk-full\): the disk under .* is full \(ENOSPC\); the partial package is deleted$/);
      expect(await nodeFileSystem.sizeOf(part)).toBeUndefined();
      expect(await readdir(join(disk.path, 'models', 'downloads'))).toEqual([]);
      expect(server.requests.filter((request) => request.path.startsWith('/fills/'))).toHaveLength(1);
      expect((await inspectOnce(agent.client)).model?.version).toBe('1');
    });
  });
});
