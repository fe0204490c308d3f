import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ModelLineage } from '@loupe/api-contracts';
import { MODEL_NAME_RULE, modelNameSchema } from '@loupe/device-state';
import { MODEL_MANIFEST_FILE, PackageRefusedError, signedPackage, type PackageManifest } from '@loupe/model-package';
import { Inject, Injectable } from '@nestjs/common';
import type { BlobStore } from '../blobs/blob-store';
import { BLOB_STORE, CLOUD_METRICS, REGISTRY_KEYS } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { ModelVersionNotFoundError } from './model-version.errors';
import { ModelVersionRepository, type AliasMove, type ModelSummary, type ModelVersion } from './model-version.repository';
import { PackageValidation } from './package-validation';
import type { RegistryKeys } from './registry-keys';

export { ModelVersionNotFoundError } from './model-version.errors';
export { MODEL_ALIASES, type ModelAlias, type ModelVersion } from './model-version.repository';

/** What the pusher says about the model beyond its package. */
export type PackageDownload = { url: string } | { bytes: number; sha256: string; open(from?: number): Promise<Readable> };

export interface PushDetails {
  metrics?: Record<string, number>;
  datasetExport?: string;
  parentVersion?: number;
  notes?: string;
  /** Only for the cloud's own trainer: how its training run made the model. */
  lineage?: ModelLineage;
}

/**
 * Model versions per model name: a pushed package is validated, numbered,
 * signed by the registry and stored write-once in the blob store, and its
 * metadata goes to Postgres. Aliases point at versions; every move is kept.
 */
@Injectable()
export class ModelRegistry {
  constructor(
    @Inject(ModelVersionRepository) private readonly versions: ModelVersionRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(PackageValidation) private readonly validation: PackageValidation,
    @Inject(REGISTRY_KEYS) private readonly keys: Pick<RegistryKeys, 'signing'>,
    @Inject(CLOUD_METRICS) private readonly metrics: Pick<CloudMetrics, 'modelPushes' | 'modelValidationSeconds'>,
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
      const version = await this.versions.addNextVersion(
        model.name,
        details.parentVersion,
        async (next) => {
          const { manifest, bytes } = await this.signedAsVersion(validated.verified.directory, next);
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          return {
            bytes,
            task: model.task,
            // Keys are write-once: a version whose commit failed after its blob was
            // written leaves that blob behind, and the next push of the same number
            // (other bytes: a new signature) must not collide with it.
            packageKey: `models/${model.name}/${next}/${sha256}.tar`,
            packageSha256: sha256,
            packageBytes: bytes.length,
            manifest,
            validation: validated.report,
            metrics: details.metrics ?? {},
            datasetExport: details.datasetExport ?? null,
            parentVersion: details.parentVersion ?? null,
            notes: details.notes ?? '',
            lineage: details.lineage ?? null,
            authorId,
          };
        },
        // The row is written first and committed last: a failed blob write leaves no version behind.
        (row) => this.blobs.put(row.packageKey, row.bytes, 'application/x-tar'),
      );
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
    return signedPackage(directory, this.keys.signing);
  }

  /** Every model, with the project that takes its samples (projects name the model they label), its latest version and its aliases. */
  list(): Promise<ModelSummary[]> {
    return this.versions.list();
  }

  async show(modelName: string, version: number): Promise<ModelVersion> {
    const found = await this.versions.find(modelName, version);
    if (!found) throw new ModelVersionNotFoundError(modelName, version);
    return found;
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
    const found = await this.versions.packageOf(modelName, version);
    if (!found) throw new ModelVersionNotFoundError(modelName, version);
    return found;
  }

  /** Points the alias at the version, and records who moved it, from where, and why. */
  promote(move: AliasMove): Promise<{ fromVersion: number | null }> {
    return this.versions.moveAlias(move);
  }

  /** Every alias move of the model, newest first. */
  aliasHistory(modelName: string): ReturnType<ModelVersionRepository['aliasHistory']> {
    return this.versions.aliasHistory(modelName);
  }
}
