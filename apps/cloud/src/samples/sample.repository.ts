import { Inject, Injectable } from '@nestjs/common';
import { withoutControlCharacters } from '@loupe/api-contracts';
import { Kysely, sql } from 'kysely';
import type { DB } from '../database/generated/database-types';
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
 * Where samples and refused payloads are kept. This is the ingest hot path:
 * one multi-row statement per batch, no ORM layer (going through Prisma's
 * raw queries once cost about a sixth of ingest throughput in
 * `npm run bench:ingest`); Kysely only writes the SQL text.
 */
@Injectable()
export class SampleRepository {
  constructor(@Inject(Kysely) private readonly db: Kysely<DB>) {}

  /**
   * Stores each sample unless one with its id is already there, in one
   * statement; returns the ids this call inserted. A plain INSERT ... ON
   * CONFLICT DO NOTHING: a repeat delivery racing on another replica can
   * neither fail nor change the stored row.
   */
  async insertManyIfAbsent(rows: SampleRow[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const inserted = await this.db
      .insertInto('samples')
      .values(
        rows.map(({ sample, imageKey }) => ({
          id: sample.id,
          site_id: sample.siteId,
          device_id: sample.deviceId,
          station_id: sample.stationId,
          unit_serial: sample.unitSerial,
          captured_at: sample.capturedAt,
          model_name: sample.modelName,
          model_version: sample.modelVersion,
          verdict: sample.verdict,
          prediction: JSON.stringify(sample.prediction),
          priority: sample.priority,
          reason: sample.reason,
          image_key: imageKey,
          image_sha256: sample.imageSha256,
          image_bytes: sample.image.byteLength,
          image_media_type: sample.imageMediaType,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    return new Set(inserted.map((row) => row.id));
  }

  /** Who sent each of these sample ids that is stored already, and its image's hash, by id in Postgres's lower-case form. */
  async storedIdentities(ids: string[]): Promise<Map<string, StoredIdentity>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('samples')
      .select(['id', 'site_id', 'device_id', 'image_sha256'])
      .where('id', '=', sql<string>`ANY(${ids}::uuid[])`)
      .execute();
    return new Map(rows.map((row) => [row.id, { siteId: row.site_id, deviceId: row.device_id, imageSha256: row.image_sha256 }]));
  }

  /** Where a sample's image is kept and what it is, if the sample is stored. */
  async imageOf(id: string): Promise<{ key: string; mediaType: string } | undefined> {
    const row = await this.db.selectFrom('samples').select(['image_key', 'image_media_type']).where('id', '=', id).executeTakeFirst();
    return row && { key: row.image_key, mediaType: row.image_media_type };
  }

  /**
   * Keeps a refused payload's reason and first bytes. Its text is made
   * printable first: a dead letter must not be refused for the very
   * characters that got its payload refused.
   */
  async deadLetter(entry: DeadLetterEntry): Promise<void> {
    await this.db
      .insertInto('dead_letters')
      .values({
        topic: withoutControlCharacters(entry.topic),
        site_id: entry.siteId ?? null,
        device_id: entry.deviceId ?? null,
        sample_id: entry.sampleId ?? null,
        reason: entry.reason,
        detail: withoutControlCharacters(entry.detail.slice(0, 2_000)),
        payload_bytes: entry.payload.byteLength,
        payload_head: entry.payload.subarray(0, DEAD_LETTER_HEAD_BYTES),
      })
      .execute();
  }
}
