import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, publicKeyToPem } from '@loupe/model-package';
import {
  peakMemoryGrowth,
  postLargeBody,
  startCloudProcess,
  startTestBroker,
  startTestDatabase,
  type CloudProcess,
  type LargeBodyAnswer,
  type TestBroker,
  type TestDatabase,
} from '@loupe/testing';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcbAoiPackage } from '../src/testing/model-packages';

const MiB = 1024 * 1024;

type Damage = { kind: 'cut'; at: number } | { kind: 'flip'; at: number; mask: number } | { kind: 'append'; bytes: Uint8Array };

function damaged(intact: Buffer, damage: Damage): Buffer {
  if (damage.kind === 'cut') return intact.subarray(0, damage.at);
  if (damage.kind === 'append') return Buffer.concat([intact, damage.bytes]);
  const copy = Buffer.from(intact);
  copy[damage.at]! ^= damage.mask;
  return copy;
}

describe('a cloud process under hostile uploads', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let dataDir: string;
  let cloud: CloudProcess;
  let db: pg.Client;
  let intact: Buffer;
  let exitCode: number | undefined;

  beforeAll(async () => {
    [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-hostile-uploads-'));
    const publisher = generateSigningKey();
    await writeFile(join(dataDir, 'publishers.pem'), publicKeyToPem(publisher.publicKey));
    cloud = await startCloudProcess({ database, broker, dataDir, poolSize: 4, env: { REGISTRY_PUBLISHER_KEYS_FILE: join(dataDir, 'publishers.pem') } });
    void cloud.app.exited.then((code) => (exitCode = code));
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    intact = await pcbAoiPackage(dataDir, { signer: publisher });
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await cloud?.app.stop();
    await Promise.all([database?.stop(), broker?.stop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function push(tar: Buffer): Promise<{ status: number; body: { error?: string; message?: string; version?: number } }> {
    const response = await fetch(`${cloud.httpUrl}/api/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cloud.admin.token}`, 'content-type': 'application/x-tar' },
      body: tar,
    });
    return { status: response.status, body: (await response.json()) as never };
  }

  /** Package blobs (models/<name>/<version>/<sha256>.tar) the cloud's folder store holds (DATA_DIR is <dataDir>/cloud; its blobs are under cloud/blobs there). */
  async function storedPackages(): Promise<number> {
    const models = join(dataDir, 'cloud', 'cloud', 'blobs', 'models');
    const entries = await readdir(models, { recursive: true }).catch(() => [] as string[]);
    return entries.filter((entry) => /[0-9a-f]{64}\.tar$/.test(entry)).length;
  }

  it('answers every cut, flipped byte and appended garbage of a signed package with 201 or a 422 reason, stores nothing refused, and keeps running', async () => {
    const offset = fc.oneof(
      fc.integer({ min: 0, max: intact.length - 1 }),
      // The package manifest's and the model manifest's headers and data, and the archive's last entries and end blocks.
      fc.integer({ min: 0, max: 4_096 }),
      fc.integer({ min: intact.length - 4_096, max: intact.length - 1 }),
    );
    const damage: fc.Arbitrary<Damage> = fc.oneof(
      offset.map((at) => ({ kind: 'cut' as const, at })),
      fc.record({ kind: fc.constant('flip' as const), at: offset, mask: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 2_048 }) }),
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(damage, async (each) => {
        const { status, body } = await push(damaged(intact, each));
        expect([201, 422]).toContain(status);
        if (status === 201) accepted++;
        else expect(body).toMatchObject({ error: expect.stringMatching(/^[a-z-]+$/) as unknown, message: expect.stringMatching(/.{20,}/) as unknown });
      }),
      { numRuns: 60 },
    );
    expect(exitCode).toBeUndefined();
    expect((await db.query<{ count: string }>("SELECT count(*) FROM model_versions WHERE model_name = 'pcb-aoi'")).rows[0]!.count).toBe(String(accepted));
    expect(await storedPackages()).toBe(accepted);
    // And the intact package still goes in, and is counted: the count above could not pass by finding nothing.
    expect((await push(intact)).status).toBe(201);
    expect(await storedPackages()).toBe(accepted + 1);
  }, 600_000);

  it('refuses cut, trailing-garbage and non-tar bodies as invalid-tar, saying what to send', async () => {
    for (const tar of [intact.subarray(0, 70_000), Buffer.concat([intact, Buffer.from('garbage')]), Buffer.from('{"not":"a tar"}')]) {
      expect(await push(tar)).toMatchObject({ status: 422, body: { error: 'invalid-tar', message: expect.stringContaining('send the whole package tar') as unknown } });
    }
  });

  it('holds a few MiB at most for an anonymous 200 MiB body, on the push route and on the others', async () => {
    const pid = cloud.app.pid!;
    for (const [path, contentType] of [
      ['/api/models', 'application/x-tar'],
      ['/api/users', 'application/x-tar'],
      ['/api/users', 'application/json'],
      ['/api/auth/login', 'application/json'],
    ] as const) {
      const answers: LargeBodyAnswer[] = [];
      const growth = await peakMemoryGrowth(pid, async () => answers.push(await postLargeBody(`${cloud.httpUrl}${path}`, { bytes: 200 * MiB, contentType })));
      const answer = answers[0]!;
      // The cloud refuses without reading (401, 415), or past 1 MiB of JSON (413), and may close the connection on the rest.
      if (answer !== 'closed') expect([401, 413, 415]).toContain(answer.status);
      expect({ path, contentType, growthMiB: Math.round(growth / MiB) }).toEqual({ path, contentType, growthMiB: expect.toSatisfy((mib: number) => mib <= 8) as unknown });
    }
    expect(exitCode).toBeUndefined();
  }, 120_000);
});
