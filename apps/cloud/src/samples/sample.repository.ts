import { withoutControlCharacters } from '@loupe/api-contracts';
import type pg from 'pg';
import type { StoredIdentity } from './sample-identity';
import type { SampleRecord } from './sample-payload';

export interface SampleRow {
  sample: SampleRecord;
  imageKey: string;
}

export interface DeadLetterEntry {
  topic: string;
  siteId?: string;
  deviceId?: string;
  sampleId?: string;
  reason: string;
  detail: string;
  payload: Buffer;
}

/** Bytes of a refused payload kept for diagnosis. */
const DEAD_LETTER_HEAD_BYTES = 256;

/**
 * Where samples and refused payloads are kept. Plain SQL on the pool: this
 * is the ingest hot path, and going through Prisma's raw queries cost about
 * a sixth of ingest throughput in `npm run bench:ingest` (197 samples/s
 * without, 162 with, on a 2-core machine).
 */
export class SampleRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Stores each sample unless one with its id is already there, in one
   * statement; returns the ids this call inserted. A plain INSERT ... ON
   * CONFLICT DO NOTHING: a repeat delivery racing on another replica can
   * neither fail nor change the stored row.
   */
  async insertManyIfAbsent(rows: SampleRow[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const values: unknown[] = [];
    const tuples = rows.map(({ sample, imageKey }) => {
      const at = values.length;
      values.push(
        sample.id,
        sample.siteId,
        sample.deviceId,
        sample.stationId,
        sample.unitSerial,
        sample.capturedAt,
        sample.modelName,
        sample.modelVersion,
        sample.verdict,
        JSON.stringify(sample.prediction),
        sample.priority,
        sample.reason,
        imageKey,
        sample.imageSha256,
        sample.image.byteLength,
        sample.imageMediaType,
      );
      const p = (offset: number) => `$${at + offset}`;
      return `(${p(1)}::uuid, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}::jsonb, ${p(11)}, ${p(12)}, ${p(13)}, ${p(14)}, ${p(15)}, ${p(16)})`;
    });
    const { rows: inserted } = await this.pool.query<{ id: string }>(
      `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version,
                            verdict, prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      values,
    );
    return new Set(inserted.map((row) => row.id));
  }

  /** Who sent each of these sample ids that is stored already, and its image's hash, by id in Postgres's lower-case form. */
  async storedIdentities(ids: string[]): Promise<Map<string, StoredIdentity>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.pool.query<{ id: string; site_id: string; device_id: string; image_sha256: string }>(
      'SELECT id, site_id, device_id, image_sha256 FROM samples WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, { siteId: row.site_id, deviceId: row.device_id, imageSha256: row.image_sha256 }]));
  }

  /**
   * Keeps a refused payload's reason and first bytes. Its text is made
   * printable first: a dead letter must not be refused for the very
   * characters that got its payload refused.
   */
  async deadLetter(entry: DeadLetterEntry): Promise<void> {
    await this.pool.query(
      `INSERT INTO dead_letters (topic, site_id, device_id, sample_id, reason, detail, payload_bytes, payload_head)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        withoutControlCharacters(entry.topic),
        entry.siteId ?? null,
        entry.deviceId ?? null,
        entry.sampleId ?? null,
        entry.reason,
        withoutControlCharacters(entry.detail.slice(0, 2_000)),
        entry.payload.byteLength,
        entry.payload.subarray(0, DEAD_LETTER_HEAD_BYTES),
      ],
    );
  }
}
