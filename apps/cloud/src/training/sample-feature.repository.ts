import { featureBytes, featureVector } from '@loupe/trainer';
import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database/database';
import type { DB } from '../database/generated/database-types';
import { DATABASE } from '../infrastructure.tokens';

/** What a feature vector is of: one sample, whole (`cropKey` '') or a crop around one of its boxes. */
export interface FeatureKey {
  sampleId: string;
  cropKey: string;
}

export const featureKeyText = (key: FeatureKey): string => `${key.sampleId}/${key.cropKey}`;

// Rows per INSERT: a 512-float vector is 2 KiB, so a statement stays near half a megabyte.
const INSERT_ROWS = 256;

/** sample_features: pooled backbone features per backbone SHA-256, sample and crop, computed once. */
@Injectable()
export class SampleFeatureRepository {
  private readonly db: Kysely<DB>;

  constructor(@Inject(DATABASE) database: Pick<Database, 'db'>) {
    this.db = database.db;
  }

  /** The cached vectors of `keys` under the backbone, by featureKeyText; keys with none are absent. */
  async find(backboneSha256: string, keys: readonly FeatureKey[]): Promise<Map<string, Float32Array>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db
      .selectFrom(
        sql<FeatureKey>`unnest(${keys.map((key) => key.sampleId)}::uuid[], ${keys.map((key) => key.cropKey)}::text[])`.as<'k'>(sql`k(sample_id, crop_key)`),
      )
      .innerJoin('sample_features as f', (join) =>
        join.onRef('f.sample_id', '=', sql.ref('k.sample_id')).onRef('f.crop_key', '=', sql.ref('k.crop_key')).on('f.backbone_sha256', '=', backboneSha256),
      )
      .select(['f.sample_id', 'f.crop_key', 'f.vector', 'f.dimension'])
      .execute();
    return new Map(rows.map((row) => [featureKeyText({ sampleId: row.sample_id, cropKey: row.crop_key }), featureVector(row.vector, row.dimension)]));
  }

  /** Keeps the vectors; one stored already (a concurrent run computed it too) stays as it was, since the same bytes give the same features. */
  async save(backboneSha256: string, vectors: readonly (FeatureKey & { vector: Float32Array })[]): Promise<void> {
    for (let start = 0; start < vectors.length; start += INSERT_ROWS) {
      await this.db
        .insertInto('sample_features')
        .values(
          vectors.slice(start, start + INSERT_ROWS).map((entry) => ({
            backbone_sha256: backboneSha256,
            sample_id: entry.sampleId,
            crop_key: entry.cropKey,
            vector: featureBytes(entry.vector),
            dimension: entry.vector.length,
          })),
        )
        .onConflict((oc) => oc.columns(['backbone_sha256', 'sample_id', 'crop_key']).doNothing())
        .execute();
    }
  }
}
