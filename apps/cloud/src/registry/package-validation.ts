import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { backboneOf, DEFAULT_MAX_IMAGE_PIXELS, GoldenSampleMismatchError, ModelLoadError, ModelPipeline, type PipelineSettings } from '@loupe/inference';
import { MODEL_MANIFEST_FILE, unpackPackage, verifyPackage, type VerifiedPackage } from '@loupe/model-package';
import { DomainError } from '@loupe/service';
import { checkBackbone } from '@loupe/trainer';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, REGISTRY_KEYS } from '../infrastructure.tokens';
import type { RegistryKeys } from './registry-keys';

/** The package verified but its model does not work: it does not load, does not match its manifest, or its golden samples are off (HTTP 422). */
export class ModelRefusedError extends DomainError {
  readonly kind = 'refused';
  constructor(
    override readonly reason: 'model-load-failed' | 'golden-mismatch',
    message: string,
  ) {
    super(message);
  }
}

/** What validation found, stored with the version. */
export interface ValidationReport {
  provider: string;
  goldenSamples: number;
  /** Loading, one warm-up run and the golden samples, on the CPU. */
  checkMs: number;
}

/** A package that passed validation, unpacked in a scratch directory until `dispose`. */
export interface ValidatedPackage {
  verified: VerifiedPackage;
  report: ValidationReport;
  dispose(): Promise<void>;
}

// The registry checks on the CPU what boxes run on TensorRT: the golden
// samples' tolerances are meant to absorb the difference. The trainer runs
// the champion with the same settings.
export const CPU_ONLY: PipelineSettings = {
  providers: {
    chain: ['cpu'],
    tensorrt: { fp16: false, int8: false, engineCacheDir: tmpdir(), workspaceBytes: 0 },
    cuda: { deviceId: 0 },
    // One thread that sleeps when idle: validation shares the machine with the cloud's requests.
    cpu: { intraOpThreads: 1, interOpThreads: 1, spinWait: false },
  },
  batch: { maxBatch: 1, maxDelayMs: 0, maxQueue: 16, concurrentBatches: 1 },
  maxImagePixels: DEFAULT_MAX_IMAGE_PIXELS,
  warmUpRuns: 1,
};

/**
 * Validation on upload: the package unpacks safely and verifies against the
 * publishers' keys, then its model loads in onnxruntime, matches its
 * manifest's inputs and outputs, and reproduces its golden samples within
 * their tolerance, the same check a box runs before it serves the model.
 * A model whose manifest names a feature output must also yield those
 * features; a backbone (task `features`, no classes, never served) is
 * checked for that alone.
 */
@Injectable()
export class PackageValidation {
  private readonly logger: Logger;

  constructor(
    @Inject(REGISTRY_KEYS) private readonly keys: Pick<RegistryKeys, 'publishers'>,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'registry' });
  }

  async validate(tar: Readable): Promise<ValidatedPackage> {
    const scratch = await mkdtemp(join(tmpdir(), 'loupe-push-'));
    const dispose = () => rm(scratch, { recursive: true, force: true });
    try {
      const directory = join(scratch, 'package');
      await unpackPackage(tar, directory);
      const verified = await verifyPackage(directory, await this.keys.publishers());
      const started = performance.now();
      const provider = verified.model.task === 'features' ? 'cpu' : await this.checkServable(directory);
      await this.checkFeatures(verified);
      const report = { provider, goldenSamples: verified.model.goldenSamples.length, checkMs: Math.round(performance.now() - started) };
      return { verified, report, dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }

  /** Loads the model as a box would, warm-up and golden samples included; returns the provider that ran it. */
  private async checkServable(directory: string): Promise<string> {
    const pipeline = await ModelPipeline.open(join(directory, MODEL_MANIFEST_FILE), CPU_ONLY, this.logger).catch((error: unknown) => {
      if (error instanceof GoldenSampleMismatchError) throw new ModelRefusedError('golden-mismatch', error.message);
      if (error instanceof ModelLoadError) throw new ModelRefusedError('model-load-failed', error.message);
      throw error;
    });
    await pipeline.close();
    return pipeline.model.provider;
  }

  /** A trainer will read the features the manifest names: they must be there, of the size it says. */
  private async checkFeatures(verified: VerifiedPackage): Promise<void> {
    const backbone = backboneOf(verified.model);
    if (!backbone) return;
    const model = await readFile(verified.modelPath);
    await checkBackbone(model, backbone).catch((error: unknown) => {
      throw new ModelRefusedError('model-load-failed', `${verified.model.name} does not serve as a backbone: ${(error as Error).message}`);
    });
  }
}
