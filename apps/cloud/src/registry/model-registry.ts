import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MODEL_NAME_RULE, modelNameSchema } from '@loupe/device-state';
import {
  MODEL_MANIFEST_FILE,
  PackageRefusedError,
  signedPackage,
  type PackageManifest,
  type SigningKey,
} from '@loupe/model-package';
import { DomainError } from '@loupe/service';
import type pg from 'pg';
import type { BlobStore } from '../blobs/blob-store';
import { inTransaction } from '../database/transaction';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import type { PackageValidation, ValidationReport } from './package-validation';

export const MODEL_ALIASES = ['candidate', 'staging', 'production', 'archived'] as const;
export type ModelAlias = (typeof MODEL_ALIASES)[number];

export class ModelVersionNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(modelName: string, version?: number) {
    super(version === undefined ? `no model ${modelName} in the registry` : `no version ${version} of model ${modelName} in the registry`);
    this.name = 'ModelVersionNotFoundError';
  }
}

/** What the pusher says about the model beyond its package. */
export type PackageDownload = { url: string } | { bytes: number; sha256: string; open(from?: number): Promise<Readable> };

export interface PushDetails {
  metrics?: Record<string, number>;
  datasetExport?: string;
  parentVersion?: number;
  notes?: string;
}

export interface ModelVersion {
  modelName: string;
  version: number;
  task: string;
  packageSha256: string;
  packageBytes: number;
  manifest: PackageManifest;
  validation: ValidationReport;
  metrics: Record<string, number>;
  datasetExport: string | null;
  parentVersion: number | null;
  notes: string;
  author: string;
  createdAt: Date;
  aliases: ModelAlias[];
}

/**
 * Model versions per model name: a pushed package is validated, numbered,
 * signed by the registry and stored write-once in the blob store, and its
 * metadata goes to Postgres. Aliases point at versions; every move is kept.
 */
export class ModelRegistry {
  constructor(
    private readonly pool: pg.Pool,
    private readonly blobs: BlobStore,
    private readonly validation: PackageValidation,
    private readonly signingKey: SigningKey,
    private readonly metrics: Pick<CloudMetrics, 'modelPushes' | 'modelValidationSeconds'>,
  ) {}

  /**
   * Validates the package tar, read from the stream as it arrives, and
   * stores it as the model's next version. A refusal (PackageRefusedError,
   * ModelRefusedError) stores nothing.
   */
  async push(tar: Readable, details: PushDetails, authorId: string): Promise<ModelVersion> {
    try {
      const pushed = await this.validatedPush(tar, details, authorId);
      this.metrics.modelPushes.inc({ outcome: 'accepted' });
      return pushed;
    } catch (error) {
      const reason = (error as { reason?: unknown }).reason;
      this.metrics.modelPushes.inc({ outcome: typeof reason === 'string' ? reason : 'failed' });
      throw error;
    }
  }

  private async validatedPush(tar: Readable, details: PushDetails, authorId: string): Promise<ModelVersion> {
    const validating = this.metrics.modelValidationSeconds.startTimer();
    const validated = await this.validation.validate(tar).finally(() => validating());
    try {
      const { model } = validated.verified;
      if (!modelNameSchema.safeParse(model.name).success) {
        throw new PackageRefusedError('manifest-mismatch', `model name ${JSON.stringify(model.name)} must be ${MODEL_NAME_RULE}`);
      }
      const version = await inTransaction(this.pool, async (client) => {
        // One push per model at a time, so version numbers have no gaps or repeats.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model-versions/${model.name}`]);
        if (details.parentVersion !== undefined) await this.requireVersion(client, model.name, details.parentVersion);
        const { rows } = await client.query<{ next: number }>('SELECT COALESCE(max(version), 0) + 1 AS next FROM model_versions WHERE model_name = $1', [
          model.name,
        ]);
        const next = rows[0]!.next;
        const { manifest, bytes } = await this.signedAsVersion(validated.verified.directory, next);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        // Keys are write-once: a version whose commit failed after its blob was
        // written leaves that blob behind, and the next push of the same number
        // (other bytes: a new signature) must not collide with it.
        const packageKey = `models/${model.name}/${next}/${sha256}.tar`;
        await client.query(
          `INSERT INTO model_versions (model_name, version, task, package_key, package_sha256, package_bytes, manifest, validation, metrics,
                                       dataset_export, parent_version, notes, author_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            model.name,
            next,
            model.task,
            packageKey,
            sha256,
            bytes.length,
            JSON.stringify(manifest),
            JSON.stringify(validated.report),
            JSON.stringify(details.metrics ?? {}),
            details.datasetExport ?? null,
            details.parentVersion ?? null,
            details.notes ?? '',
            authorId,
          ],
        );
        // The row is written first and committed last: a failed blob write leaves no version behind.
        await this.blobs.put(packageKey, bytes, 'application/x-tar');
        return next;
      });
      return await this.show(model.name, version);
    } finally {
      await validated.dispose();
    }
  }

  /** The registry's version number goes into manifest.json, then the package is signed by the registry and packed. */
  private async signedAsVersion(directory: string, version: number): Promise<{ manifest: PackageManifest; bytes: Buffer }> {
    const manifestPath = join(directory, MODEL_MANIFEST_FILE);
    const model = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestPath, `${JSON.stringify({ ...model, version: String(version) }, null, 2)}\n`);
    return signedPackage(directory, this.signingKey);
  }

  /** Every model, with the project that takes its samples (projects name the model they label), its latest version and its aliases. */
  async list(): Promise<{ modelName: string; project: string | null; task: string; latestVersion: number; aliases: Partial<Record<ModelAlias, number>> }[]> {
    const { rows } = await this.pool.query<{ model_name: string; project: string | null; task: string; latest: number; aliases: Record<ModelAlias, number> | null }>(
      `SELECT v.model_name, p.name AS project, (array_agg(v.task ORDER BY v.version DESC))[1] AS task, max(v.version) AS latest,
              (SELECT jsonb_object_agg(a.alias, a.version) FROM model_aliases a WHERE a.model_name = v.model_name) AS aliases
       FROM model_versions v LEFT JOIN projects p ON p.model_name = v.model_name
       GROUP BY v.model_name, p.name ORDER BY v.model_name`,
    );
    return rows.map((row) => ({ modelName: row.model_name, project: row.project, task: row.task, latestVersion: row.latest, aliases: row.aliases ?? {} }));
  }

  async show(modelName: string, version: number): Promise<ModelVersion> {
    const { rows } = await this.pool.query<VersionRow>(
      `SELECT v.*, u.email AS author,
              ARRAY(SELECT a.alias FROM model_aliases a WHERE a.model_name = v.model_name AND a.version = v.version ORDER BY a.alias) AS aliases
       FROM model_versions v JOIN users u ON u.id = v.author_id
       WHERE v.model_name = $1 AND v.version = $2`,
      [modelName, version],
    );
    const row = rows[0];
    if (!row) throw new ModelVersionNotFoundError(modelName, version);
    return {
      modelName: row.model_name,
      version: row.version,
      task: row.task,
      packageSha256: row.package_sha256,
      packageBytes: row.package_bytes,
      manifest: row.manifest,
      validation: row.validation,
      metrics: row.metrics,
      datasetExport: row.dataset_export,
      parentVersion: row.parent_version,
      notes: row.notes,
      author: row.author,
      createdAt: row.created_at,
      aliases: row.aliases,
    };
  }

  /** The signed package as stored, streamed from byte `from` on, with its whole size and SHA-256. */
  async openPackage(modelName: string, version: number, from = 0): Promise<{ stream: Readable; bytes: number; sha256: string }> {
    const { key, sha256 } = await this.packageOf(modelName, version);
    const opened = await this.blobs.open(key, from);
    if (!opened) throw new ModelVersionNotFoundError(modelName, version);
    return { ...opened, sha256 };
  }

  /**
   * How to hand the package out, from one lookup: a URL valid for `seconds`
   * where the blob store has them (S3 presigned), else its size, SHA-256 and
   * a stream of it from any byte, through the cloud.
   */
  async packageDownload(modelName: string, version: number, seconds: number): Promise<PackageDownload> {
    const { key, bytes, sha256 } = await this.packageOf(modelName, version);
    const url = await this.blobs.downloadUrl(key, seconds);
    if (url) return { url };
    return {
      bytes,
      sha256,
      open: async (from = 0) => {
        const opened = await this.blobs.open(key, from);
        if (!opened) throw new ModelVersionNotFoundError(modelName, version);
        return opened.stream;
      },
    };
  }

  private async packageOf(modelName: string, version: number): Promise<{ key: string; bytes: number; sha256: string }> {
    const { rows } = await this.pool.query<{ package_key: string; package_bytes: number; package_sha256: string }>(
      'SELECT package_key, package_bytes, package_sha256 FROM model_versions WHERE model_name = $1 AND version = $2',
      [modelName, version],
    );
    if (!rows[0]) throw new ModelVersionNotFoundError(modelName, version);
    return { key: rows[0].package_key, bytes: rows[0].package_bytes, sha256: rows[0].package_sha256 };
  }

  /** Points the alias at the version, and records who moved it, from where, and why. */
  async promote(move: { modelName: string; alias: ModelAlias; version: number; reason: string; actorId: string }): Promise<{ fromVersion: number | null }> {
    return inTransaction(this.pool, async (client) => {
      await this.requireVersion(client, move.modelName, move.version);
      const { rows } = await client.query<{ version: number }>(
        'SELECT version FROM model_aliases WHERE model_name = $1 AND alias = $2 FOR UPDATE',
        [move.modelName, move.alias],
      );
      const fromVersion = rows[0]?.version ?? null;
      await client.query(
        `INSERT INTO model_aliases (model_name, alias, version, moved_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (model_name, alias) DO UPDATE SET version = EXCLUDED.version, moved_at = EXCLUDED.moved_at`,
        [move.modelName, move.alias, move.version],
      );
      await client.query(
        'INSERT INTO model_alias_moves (model_name, alias, from_version, to_version, actor_id, reason) VALUES ($1, $2, $3, $4, $5, $6)',
        [move.modelName, move.alias, fromVersion, move.version, move.actorId, move.reason],
      );
      return { fromVersion };
    });
  }

  /** Every alias move of the model, newest first. */
  async aliasHistory(modelName: string): Promise<{ alias: string; fromVersion: number | null; toVersion: number; actor: string; reason: string; movedAt: Date }[]> {
    const { rows } = await this.pool.query<{ alias: string; from_version: number | null; to_version: number; actor: string; reason: string; moved_at: Date }>(
      `SELECT m.alias, m.from_version, m.to_version, u.email AS actor, m.reason, m.moved_at
       FROM model_alias_moves m JOIN users u ON u.id = m.actor_id WHERE m.model_name = $1 ORDER BY m.id DESC`,
      [modelName],
    );
    return rows.map((row) => ({ alias: row.alias, fromVersion: row.from_version, toVersion: row.to_version, actor: row.actor, reason: row.reason, movedAt: row.moved_at }));
  }

  private async requireVersion(db: Pick<pg.Pool, 'query'>, modelName: string, version: number): Promise<void> {
    const { rowCount } = await db.query('SELECT 1 FROM model_versions WHERE model_name = $1 AND version = $2', [modelName, version]);
    if (rowCount !== 1) throw new ModelVersionNotFoundError(modelName, version);
  }
}

interface VersionRow {
  model_name: string;
  version: number;
  task: string;
  package_sha256: string;
  package_bytes: number;
  manifest: PackageManifest;
  validation: ValidationReport;
  metrics: Record<string, number>;
  dataset_export: string | null;
  parent_version: number | null;
  notes: string;
  author: string;
  created_at: Date;
  aliases: ModelAlias[];
}
