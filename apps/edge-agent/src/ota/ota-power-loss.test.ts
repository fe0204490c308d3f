import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateSigningKey, publicKeyToPem, TrustedKeys, verifyPackage } from '@loupe/model-package';
import { ModelUpdateStatus } from '@loupe/proto';
import { eventually } from '@loupe/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../storage/file-system';
import { desiredStateOf, tinyPackage, writeRegistryKeys, type TestPackage } from '../testing/model-packages';
import { startPackageServer, type PackageServer } from '../testing/package-server';
import { startSimulatedBox, type SimulatedBox } from '../testing/simulated-box';
import { SimulatedDisk, type DiskStepKind, type SimulatedDiskOptions } from '../testing/simulated-disk';
import { BoxStateFile } from './box-state-file';

const { MODEL_UPDATE_STATUS_ACTIVE: ACTIVE, MODEL_UPDATE_STATUS_FAILED: FAILED } = ModelUpdateStatus;
const registry = generateSigningKey();
const CONCURRENT_RUNS = 4;

/**
 * Power loss at every step of an update: the real OTA code on a simulated
 * disk that forgets whatever was not made durable. For each scenario a
 * recording run counts the disk steps; then, for every k, a fresh box
 * loses power at step k, boots on what was durable, and must serve a
 * verified model (the one state.json names, whose hashes and signature
 * check out, or MODEL_MANIFEST) and then finish the update.
 */
describe('OTA across power loss at every disk step', () => {
  let workDir: string;
  let server: PackageServer;
  let boot: Awaited<ReturnType<typeof tinyPackage>>;
  let v2: TestPackage;
  let trusted: TrustedKeys;
  let registryKeysFile: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'loupe-ota-power-'));
    server = await startPackageServer();
    [boot, v2] = await Promise.all([tinyPackage(workDir, { version: '1', signer: registry }), tinyPackage(workDir, { version: '2', signer: registry })]);
    registryKeysFile = join(workDir, 'registry-keys.json');
    await writeRegistryKeys(registryKeysFile, [registry]);
    trusted = new TrustedKeys([publicKeyToPem(registry.publicKey)]);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  const bootManifest = () => join(boot.directory, 'manifest.json');

  function startOn(disk: SimulatedDisk): SimulatedBox {
    return startSimulatedBox({ files: disk, modelsDir: join(disk.root, 'models'), registryKeysFile, bootManifest: bootManifest() });
  }

  /** Until the box reports `generation` settled (or the power went); resolves with the last report. */
  async function settled(box: SimulatedBox, disk: SimulatedDisk, generation: number) {
    return eventually(
      () => {
        const last = box.reports().at(-1);
        if (disk.crashed) return last;
        expect(last).toMatchObject({ generation });
        expect([ACTIVE, FAILED]).toContain(last?.status);
        return last;
      },
      { timeoutMs: 10_000, intervalMs: 5 },
    );
  }

  /** The box serves what state.json names, and that is MODEL_MANIFEST or a version whose files match their signed manifest. */
  async function expectServingVerified(box: SimulatedBox, models: string) {
    const state = await new BoxStateFile(join(models, 'state.json'), pino({ level: 'silent' }), nodeFileSystem).load();
    const serving = box.served.at(-1);
    expect(serving).toBeDefined();
    expect(state.active).toMatchObject({ manifestPath: serving!.manifestPath, sha256: serving!.sha256 });
    if (serving!.manifestPath === bootManifest()) return state;
    const verified = await verifyPackage(dirname(serving!.manifestPath), trusted);
    expect(verified.manifest.files.find((file) => file.path === verified.model.modelFile)?.sha256).toBe(serving!.sha256);
    return state;
  }

  /**
   * Runs `scenario` on a fresh disk that loses power at `crashAt`, boots
   * again and checks the box; then asks for `finally` and checks it
   * settles there. Resolves with the steps the run took.
   */
  async function powerLossAt(crashAt: number | undefined, scenario: Scenario) {
    const disk = await SimulatedDisk.fresh(crashAt === undefined ? {} : { crashAt });
    const { root } = disk;
    const box = startOn(disk);
    try {
      await box.updates.started;
      for (const { desired, generation } of scenario.updates) {
        box.desire(desired());
        const last = await settled(box, disk, generation);
        if (disk.crashed) break;
        expect(last?.status).toBe(scenario.expected.status);
      }
    } catch (error) {
      if (!disk.crashed) throw error;
    }
    await box.updates.stop().catch((error: unknown) => {
      if (!disk.crashed) throw error;
    });
    const steps = disk.steps;
    const rebooted = await disk.reboot();
    const again = startOn(rebooted);
    try {
      await again.updates.started;
      await expectServingVerified(again, join(root, 'models'));
      const last = scenario.updates.at(-1)!;
      again.desire(last.desired());
      const report = await settled(again, rebooted, last.generation);
      expect(report, `after power loss at step ${crashAt}: ${JSON.stringify(steps[crashAt ?? -1])}`).toMatchObject(scenario.expected);
      const state = await expectServingVerified(again, join(root, 'models'));
      expect(state.active).toMatchObject(scenario.expected.active);
    } finally {
      await again.updates.stop();
      await rm(root, { recursive: true, force: true });
    }
    return steps;
  }

  interface Scenario {
    updates: { desired: () => Buffer; generation: number }[];
    expected: { status: ModelUpdateStatus; active: { version: string } };
  }

  /**
   * A recording run, then power loss at every step k, until a run is done
   * before its k (the download's chunks, and so its writes, may differ from
   * run to run). Runs go a few at a time: each has its own disk and box.
   */
  async function everyStep(scenario: Scenario, kinds: DiskStepKind[]) {
    const recorded = await powerLossAt(undefined, scenario);
    expect(new Set(recorded.map((step) => step.kind))).toEqual(new Set(kinds));
    let crashed = 0;
    for (let first = 0; crashed === first; first += CONCURRENT_RUNS) {
      const runs = Array.from({ length: CONCURRENT_RUNS }, (_, index) => first + index);
      const steps = await Promise.all(runs.map((crashAt) => powerLossAt(crashAt, scenario)));
      crashed += steps.filter((taken, index) => taken.length > runs[index]!).length;
    }
    expect(crashed).toBeGreaterThanOrEqual(recorded.length - 2);
  }

  const ALL_KINDS: DiskStepKind[] = ['open', 'write', 'sync', 'rename', 'remove', 'mkdir', 'sync-directory'];

  it('installs a new version: every step leaves a verified model serving and the update finishes', async () => {
    const url = server.serve(`/packages/${v2.sha256}`, v2.bytes);
    await everyStep({ updates: [{ desired: () => desiredStateOf(v2, url, 1), generation: 1 }], expected: { status: ACTIVE, active: { version: '2' } } }, ALL_KINDS);
  }, 120_000);

  it('fails a package that does not match its desired state: every step leaves the old model serving and the failure recorded', async () => {
    const url = server.serve(`/packages/corrupt/${v2.sha256}`, Buffer.concat([v2.bytes.subarray(0, -1), Buffer.from([v2.bytes.at(-1)! ^ 1])]));
    await everyStep({ updates: [{ desired: () => desiredStateOf(v2, url, 1), generation: 1 }], expected: { status: FAILED, active: { version: '1' } } }, ALL_KINDS);
  }, 120_000);

  it('reports a failed update the disk refuses to record, and still deletes what the update left', async () => {
    const corrupt = Buffer.concat([v2.bytes.subarray(0, -1), Buffer.from([v2.bytes.at(-1)! ^ 1])]);
    const url = server.serve(`/packages/unrecorded/${v2.sha256}`, corrupt);
    const run = async (failAt?: SimulatedDiskOptions['failAt']) => {
      const disk = await SimulatedDisk.fresh(failAt ? { failAt } : {});
      const box = startOn(disk);
      await box.updates.started;
      box.desire(desiredStateOf(v2, url, 1));
      const report = await settled(box, disk, 1);
      await box.updates.stop();
      const state = await new BoxStateFile(join(disk.root, 'models', 'state.json'), pino({ level: 'silent' }), nodeFileSystem).load();
      const left = await disk.list(join(disk.root, 'models', 'downloads'));
      await rm(disk.root, { recursive: true, force: true });
      return { report, state, left, steps: disk.steps };
    };
    const recorded = await run();
    expect(recorded.state.failures).toHaveLength(1);
    // The failure's state write is the first after verify deleted the package that does not match.
    const refused = await run({
      step: (step, before) => step.kind === 'open' && step.path === 'models/state.json.tmp' && before.some((earlier) => earlier.kind === 'remove' && earlier.path.endsWith('.tar')),
      code: 'ENOSPC',
    });
    expect(refused.report).toMatchObject({ status: FAILED, generation: 1 });
    expect(refused.report?.error).toMatch(/^verify failed \(hash-mismatch\)/);
    expect(refused.state.failures).toEqual([]);
    expect(refused.left).toEqual([]);
  });

  it('rolls back to the previous version: every step leaves a verified model serving and the roll-back finishes', async () => {
    const url = server.serve(`/packages/${v2.sha256}`, v2.bytes);
    await everyStep(
      {
        updates: [
          { desired: () => desiredStateOf(v2, url, 1), generation: 1 },
          { desired: () => desiredStateOf(boot, `${server.url}/never-served`, 2), generation: 2 },
        ],
        expected: { status: ACTIVE, active: { version: '1' } },
      },
      ALL_KINDS,
    );
  }, 120_000);
});
