import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredModel } from '@loupe/device-state';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { eventually } from '@loupe/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../storage/file-system';
import { startPackageServer, type PackageServer } from '../testing/package-server';
import { SimulatedDisk } from '../testing/simulated-disk';
import { ModelStore } from './model-store';
import { OtaMetrics } from './ota-metrics';
import { PackageDownload, type DownloadSettings } from './package-download';
import { UpdateStepError } from './update-step.error';

const logger = pino({ level: 'silent' });
const PACKAGE = randomBytes(200 * 1024);
const SHA = 'd'.repeat(64);
// Buffer.equals: vitest's deep equality walks 200 KB byte by byte.
const sameBytes = (bytes: Buffer) => bytes.equals(PACKAGE);

describe('the download step', () => {
  let server: PackageServer;
  let root: string;
  let store: ModelStore;
  let metrics: OtaMetrics;

  beforeAll(async () => {
    server = await startPackageServer();
  });
  afterAll(() => server?.stop());
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'loupe-download-'));
    store = new ModelStore(root, nodeFileSystem);
    await store.prepare();
    metrics = new OtaMetrics(new Registry());
    server.requests.length = 0;
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const desired = (url: string, size = PACKAGE.length): DesiredModel => ({
    generation: 1,
    model: { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) },
    package: { url, size, sha256: SHA },
    rolloutId: '',
  });
  const download = (settings: Partial<DownloadSettings> = {}, on = store) =>
    new PackageDownload(on, { stallTimeoutMs: 2_000, diskReserveBytes: 0, backoff: { initialMs: 10, maxMs: 20 }, ...settings }, metrics, logger);

  /** A store on a simulated disk of `capacityBytes`. */
  async function storeOnDisk(capacityBytes: number): Promise<ModelStore> {
    const disk = await SimulatedDisk.over(join(root, 'disk'), { capacityBytes });
    const small = new ModelStore(disk.root, disk);
    await small.prepare();
    return small;
  }

  async function failureOf(work: Promise<unknown>): Promise<UpdateStepError> {
    const error = await work.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UpdateStepError);
    return error as UpdateStepError;
  }

  it('resumes with a Range request where a cut connection stopped, and ends with the exact bytes', async () => {
    const url = server.serve('/cut', PACKAGE, { cutAfter: 70 * 1024 });
    const file = await download().run(desired(url), new AbortController().signal);
    expect(sameBytes(await readFile(file))).toBe(true);
    expect(file).toBe(store.packageFile(SHA));
    expect(server.requests.map((request) => request.range)).toEqual([undefined, 'bytes=71680-', 'bytes=143360-']);
    expect(await metrics.downloadBytes.get()).toMatchObject({ values: [{ value: PACKAGE.length }] });
  });

  it('continues a partial file left by an earlier process', async () => {
    await writeFile(store.partFile(SHA), PACKAGE.subarray(0, 50_000));
    const url = server.serve('/resume', PACKAGE);
    expect(sameBytes(await readFile(await download().run(desired(url), new AbortController().signal)))).toBe(true);
    expect(server.requests).toEqual([{ path: '/resume', range: 'bytes=50000-' }]);
  });

  it('starts over when the server ignores the Range header and sends the whole file', async () => {
    await writeFile(store.partFile(SHA), PACKAGE.subarray(0, 50_000));
    const url = server.serve('/no-range', PACKAGE, { ignoreRange: true });
    expect(sameBytes(await readFile(await download().run(desired(url), new AbortController().signal)))).toBe(true);
  });

  it('refuses a server that announces more bytes than the desired state declares, without retrying', async () => {
    const url = server.serve('/long', PACKAGE);
    const error = await failureOf(download().run(desired(url, PACKAGE.length - 1), new AbortController().signal));
    expect(error).toMatchObject({ step: 'download', reason: 'too-large' });
    expect(error.message).toContain(`declares ${PACKAGE.length - 1}`);
    expect(server.requests).toHaveLength(1);
  });

  it('stops reading at the declared size when the server sends more without saying so', async () => {
    const url = server.serve('/chunked', PACKAGE, { chunked: true });
    const error = await failureOf(download().run(desired(url, 100_000), new AbortController().signal));
    expect(error).toMatchObject({ reason: 'too-large' });
    expect((await stat(store.partFile(SHA))).size).toBeLessThanOrEqual(100_000);
  });

  it('ends at once on a refusal such as 404, naming the status', async () => {
    const error = await failureOf(download().run(desired(`${server.url}/missing`), new AbortController().signal));
    expect(error).toMatchObject({ reason: 'http-404' });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a server error until the server answers', async () => {
    const url = server.serve('/flaky', PACKAGE, { status: 503 });
    const running = download().run(desired(url), new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.serve('/flaky', PACKAGE);
    expect(sameBytes(await readFile(await running))).toBe(true);
    expect(server.requests.length).toBeGreaterThan(2);
  });

  it('sends the broker credentials as HTTP Basic', async () => {
    const url = server.serve('/auth', PACKAGE);
    await download({ credentials: { username: 'plant-7.aoi-1', password: 's3cret' } }).run(desired(url), new AbortController().signal);
    expect(server.requests[0]?.authorization).toBe(`Basic ${Buffer.from('plant-7.aoi-1:s3cret').toString('base64')}`);
  });

  it('is abandoned on abort, keeping what arrived for a later resume', async () => {
    const url = server.serve('/slow', PACKAGE, { bytesPerSecond: 100 * 1024 });
    const controller = new AbortController();
    const running = download().run(desired(url), controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 600));
    controller.abort();
    await expect(running).rejects.toThrow();
    const kept = (await stat(store.partFile(SHA))).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(PACKAGE.length);
  });

  describe('on a full disk', () => {
    it('does not start unless the rest of the package, its unpacked copy and the reserve fit, and says what it needs', async () => {
      const small = await storeOnDisk(500 * 1024);
      const url = server.serve('/needs-room', PACKAGE);
      const error = await failureOf(download({ diskReserveBytes: 150 * 1024 }, small).run(desired(url), new AbortController().signal));
      expect(error).toMatchObject({ step: 'download', reason: 'disk-full' });
      expect(error.message).toBe(
        `the package needs ${PACKAGE.length * 2 + 150 * 1024} bytes free under ${small.root} (${PACKAGE.length} still to download, ${PACKAGE.length} to unpack, ${150 * 1024} of OTA_DISK_RESERVE_BYTES); ${500 * 1024} are free`,
      );
      expect(server.requests).toHaveLength(0);
      expect(sameBytes(await readFile(await download({ diskReserveBytes: 50 * 1024 }, small).run(desired(url), new AbortController().signal)))).toBe(true);
    });

    it('gives up at once when the disk fills up under it, deleting the partial file instead of retrying', async () => {
      const small = await storeOnDisk(450 * 1024);
      const url = server.serve('/fills-up', PACKAGE, { bytesPerSecond: 200 * 1024 });
      const running = download({}, small).run(desired(url), new AbortController().signal);
      // Another writer takes the space the check saw free, once the download is under way.
      await eventually(async () => expect(await small.files.sizeOf(small.partFile(SHA))).toBeGreaterThan(0));
      await writeFile(join(small.root, 'filler'), Buffer.alloc(400 * 1024));
      const error = await failureOf(running);
      expect(error).toMatchObject({ step: 'download', reason: 'disk-full' });
      expect(error.message).toMatch(/is full \(ENOSPC\); the partial package is deleted$/);
      expect(await small.files.sizeOf(small.partFile(SHA))).toBeUndefined();
      expect(server.requests).toHaveLength(1);
    });
  });

  it('takes a complete file already downloaded without asking the server', async () => {
    await writeFile(store.packageFile(SHA), PACKAGE);
    expect(await download().run(desired(`${server.url}/not-asked`), new AbortController().signal)).toBe(store.packageFile(SHA));
    expect(server.requests).toHaveLength(0);
  });
});
