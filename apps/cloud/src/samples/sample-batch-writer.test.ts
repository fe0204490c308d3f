import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BlobConflictError, type BlobStore } from '../blobs/blob-store';
import { SampleBatchWriter } from './sample-batch-writer';
import type { StoredIdentity } from './sample-identity';
import type { SampleRecord } from './sample-payload';
import { SampleStoredEvents } from './sample-stored.events';
import type { SampleRepository, SampleRow } from './sample.repository';

function sample(overrides: Partial<SampleRecord> = {}): SampleRecord {
  const id = overrides.id ?? randomUUID();
  const image = overrides.image ?? Buffer.from(id);
  return {
    id,
    siteId: 'plant',
    deviceId: 'aoi-1',
    stationId: 'line-1',
    unitSerial: '',
    capturedAt: new Date(),
    modelName: 'pcb-aoi',
    modelVersion: '1',
    verdict: 'reject',
    prediction: { scores: [{ label: 'ok', score: 0.4 }, { label: 'scratch', score: 0.6 }], boxes: [] },
    priority: 0.8,
    reason: 'margin',
    imageMediaType: 'image/jpeg',
    ...overrides,
    image,
    imageSha256: createHash('sha256').update(image).digest('hex'),
  };
}

const key = (each: SampleRecord) => `k/${each.siteId}/${each.deviceId}/${each.id}`;
const nulRefused = () => Object.assign(new pg.DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', 0, 'error'), { code: '22021' });
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** An in-memory repository (ids in Postgres's lower-case form) and write-once blob store that record how they were called. */
function fakes(options: { insertFails?: (batch: SampleRow[]) => Error | undefined; insertSkips?: Set<string> } = {}) {
  const blobs = new Map<string, Buffer>();
  const rows = new Map<string, StoredIdentity>();
  const inserts: string[][] = [];
  const repository = {
    storedIdentities: (ids: string[]) =>
      Promise.resolve(new Map(ids.map((id) => id.toLowerCase()).flatMap((id) => (rows.has(id) ? [[id, rows.get(id)!] as const] : [])))),
    insertManyIfAbsent(batch: SampleRow[]) {
      inserts.push(batch.map((row) => row.sample.id));
      const failure = options.insertFails?.(batch);
      if (failure) return Promise.reject(failure);
      const inserted = new Set<string>();
      for (const { sample: stored } of batch) {
        const id = stored.id.toLowerCase();
        if (rows.has(id) || options.insertSkips?.has(id)) continue;
        rows.set(id, { siteId: stored.siteId, deviceId: stored.deviceId, imageSha256: stored.imageSha256 });
        inserted.add(id);
      }
      return Promise.resolve(inserted);
    },
  } as unknown as SampleRepository;
  const puts: string[] = [];
  const store = {
    put: (blobKey: string, body: Buffer) => {
      puts.push(blobKey);
      const held = blobs.get(blobKey);
      if (held && !held.equals(body)) return Promise.reject(new BlobConflictError(blobKey));
      blobs.set(blobKey, body);
      return Promise.resolve();
    },
  } as unknown as BlobStore;
  const published: SampleRecord[] = [];
  const events = new SampleStoredEvents();
  events.subscribe((samples) => {
    published.push(...samples);
    return Promise.resolve();
  });
  return { blobs, puts, rows, inserts, repository, store, events, published };
}

const settings = { maxBatch: 8, blobConcurrency: 2 };

describe('SampleBatchWriter', () => {
  it('writes a lone sample at once and gathers the ones that arrive meanwhile into the next group', async () => {
    const { inserts, repository, store, blobs, events, published } = fakes();
    const writer = new SampleBatchWriter(repository, store, events, { maxBatch: 3, blobConcurrency: 2 });
    const samples = Array.from({ length: 6 }, () => sample());
    const outcomes = await Promise.all(samples.map((each) => writer.store(each, key(each))));
    expect(outcomes).toEqual(samples.map(() => ({ kind: 'stored' })));
    expect(inserts.map((group) => group.length)).toEqual([1, 3, 2]);
    expect([...blobs.keys()].sort()).toEqual(samples.map(key).sort());
    expect(published.map((each) => each.id).sort()).toEqual(samples.map((each) => each.id).sort());
  });

  it('counts a sample delivered twice in one group as stored once and a duplicate once, and writes its image once', async () => {
    const { repository, store, events, puts } = fakes();
    const writer = new SampleBatchWriter(repository, store, events, settings);
    const first = writer.store(sample(), 'k/first');
    const twice = sample();
    const outcomes = await Promise.all([first, writer.store(twice, key(twice)), writer.store({ ...twice }, key(twice))]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['stored', 'stored', 'duplicate']);
    expect(puts.filter((each) => each === key(twice))).toHaveLength(1);
  });

  it('leaves the image of a sample already stored alone, and publishes the repeat again', async () => {
    const { repository, store, events, published, puts } = fakes();
    const writer = new SampleBatchWriter(repository, store, events, settings);
    const repeated = sample();
    expect(await writer.store(repeated, key(repeated))).toEqual({ kind: 'stored' });
    expect(await writer.store({ ...repeated }, key(repeated))).toEqual({ kind: 'duplicate' });
    expect(puts).toEqual([key(repeated)]);
    expect(published.map((each) => each.id)).toEqual([repeated.id, repeated.id]);
  });

  it("refuses an id stored for another device, or for the same device with another image, as id_conflict, writing and publishing nothing", async () => {
    const { repository, store, events, published, puts } = fakes();
    const writer = new SampleBatchWriter(repository, store, events, settings);
    const original = sample();
    await writer.store(original, key(original));
    const elsewhere = sample({ id: original.id.toUpperCase(), deviceId: 'aoi-2' });
    const otherImage = sample({ id: original.id, image: Buffer.from('another image') });
    const outcomes = [await writer.store(elsewhere, key(elsewhere)), await writer.store(otherImage, key(otherImage))];
    expect(outcomes).toEqual([
      { kind: 'refused', reason: 'id_conflict', detail: expect.stringMatching(/already stored for device plant\/aoi-1/) as unknown },
      { kind: 'refused', reason: 'id_conflict', detail: expect.stringMatching(/already stored with another image/) as unknown },
    ]);
    expect(puts).toEqual([key(original)]);
    expect(published.map((each) => each.id)).toEqual([original.id]);
  });

  it('refuses the second of two devices that send one id in the same group', async () => {
    const { repository, store, events } = fakes();
    const writer = new SampleBatchWriter(repository, store, events, settings);
    const busy = writer.store(sample(), 'k/busy');
    const id = randomUUID();
    const [first, second] = [sample({ id }), sample({ id, deviceId: 'aoi-9' })];
    const outcomes = await Promise.all([busy, writer.store(first, key(first)), writer.store(second, key(second))]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['stored', 'stored', 'refused']);
    expect(outcomes[2]).toMatchObject({ reason: 'id_conflict' });
  });

  it('refuses alone a sample whose image key holds other bytes, and stores the rest of its group', async () => {
    const { repository, store, events, blobs } = fakes();
    const writer = new SampleBatchWriter(repository, store, events, settings);
    const [a, b, c] = [sample(), sample(), sample()];
    // An image left by a crash before its row, and now a different one under the same id.
    blobs.set(key(b), Buffer.from('left before a crash'));
    const outcomes = await Promise.all([a, b, c].map((each) => writer.store(each, key(each))));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['stored', 'refused', 'stored']);
    expect(outcomes[1]).toMatchObject({ reason: 'id_conflict', detail: expect.stringMatching(/already holds different bytes/) as unknown });
  });

  it('writes a group again sample by sample when the database refuses one row of it, so only that one fails', async () => {
    const poison = sample({ unitSerial: 'SN\u0000' });
    const failing = fakes({ insertFails: (batch) => (batch.some((row) => row.sample === poison) ? nulRefused() : undefined) });
    const writer = new SampleBatchWriter(failing.repository, failing.store, failing.events, settings);
    const busy = writer.store(sample(), 'k/busy');
    const group = [sample(), poison, sample()];
    const outcomes = await Promise.allSettled([busy, ...group.map((each) => writer.store(each, key(each)))]);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.kind : (outcome.reason as Error).message))).toEqual([
      'stored',
      'stored',
      'invalid byte sequence for encoding "UTF8": 0x00',
      'stored',
    ]);
    expect(failing.inserts.map((batch) => batch.length)).toEqual([1, 3, 1, 1, 1]);
  });

  it('fails a whole group at once when the database is unreachable, and keeps writing later groups', async () => {
    let down = true;
    const failing = fakes({ insertFails: () => (down ? unreachable() : undefined) });
    const writer = new SampleBatchWriter(failing.repository, failing.store, failing.events, settings);
    const lone = writer.store(sample(), 'k/a');
    const outcomes = await Promise.allSettled([lone, writer.store(sample(), 'k/b'), writer.store(sample(), 'k/c')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(failing.inserts.map((batch) => batch.length)).toEqual([1, 2]);
    down = false;
    await expect(writer.store(sample(), 'k/d')).resolves.toEqual({ kind: 'stored' });
  });

  it('judges a sample another replica inserted between the lookup and the INSERT against that row', async () => {
    const racing = sample();
    const conflicting = sample();
    const { repository, store, events, rows } = fakes({ insertSkips: new Set([racing.id, conflicting.id]) });
    rows.set(racing.id, { siteId: racing.siteId, deviceId: racing.deviceId, imageSha256: racing.imageSha256 });
    rows.set(conflicting.id, { siteId: 'plant', deviceId: 'other', imageSha256: conflicting.imageSha256 });
    // The lookup must not see them: drop them from the first lookup only.
    const lookup = repository.storedIdentities.bind(repository);
    let first = true;
    repository.storedIdentities = (ids: string[]) => (first ? ((first = false), Promise.resolve(new Map<string, StoredIdentity>())) : lookup(ids));
    const writer = new SampleBatchWriter(repository, store, events, settings);
    const outcomes = await Promise.all([racing, conflicting].map((each) => writer.store(each, key(each))));
    expect(outcomes).toEqual([{ kind: 'duplicate' }, { kind: 'refused', reason: 'id_conflict', detail: expect.stringMatching(/plant\/other/) as unknown }]);
  });
});
