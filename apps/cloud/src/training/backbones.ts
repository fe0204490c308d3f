import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { TrainingRunDto } from '@loupe/api-contracts';
import { backboneOf, type BackboneSpec } from '@loupe/inference';
import { FeatureExtractor } from '@loupe/trainer';
import { Inject, Injectable } from '@nestjs/common';
import type { CloudConfig } from '../config/cloud-config';
import { CLOUD_CONFIG } from '../infrastructure.tokens';
import { ModelRegistry, ModelVersionNotFoundError } from '../registry/model-registry';
import type { FeatureSource } from './feature-cache';
import { RegistryPackages } from './registry-packages';
import { BackboneRefusedError, RunRefusedError } from './training.errors';

export type BackboneRef = TrainingRunDto['backbone'];

/** A backbone unpacked and loaded, until closed. */
export interface OpenBackbone extends FeatureSource {
  ref: BackboneRef;
  /** Its preprocessing and feature output: the classifier written on it takes both. */
  spec: BackboneSpec;
  /** The ONNX file, for the head to be written into. */
  onnx: Buffer;
  close(): Promise<void>;
}

/**
 * Backbones are registry models whose manifest names a feature output: the
 * shipped default (TRAINING_DEFAULT_BACKBONE, its latest version) or any
 * other a user pushed, with no code change.
 */
@Injectable()
export class Backbones {
  constructor(
    @Inject(ModelRegistry) private readonly registry: Pick<ModelRegistry, 'list' | 'show'>,
    @Inject(RegistryPackages) private readonly packages: RegistryPackages,
    @Inject(CLOUD_CONFIG) private readonly config: Pick<CloudConfig, 'training'>,
  ) {}

  /** The version a new run trains on: the one asked for, which must exist, else the default's latest. */
  async resolve(requested: BackboneRef | undefined): Promise<BackboneRef> {
    if (requested) {
      await this.registry.show(requested.model, requested.version).catch((error: unknown) => {
        if (error instanceof ModelVersionNotFoundError) throw new BackboneRefusedError(`backbone ${requested.model} version ${requested.version} is not in the registry`);
        throw error;
      });
      return requested;
    }
    const model = this.config.training.defaultBackbone;
    const summary = (await this.registry.list()).find((candidate) => candidate.modelName === model);
    if (!summary) {
      throw new BackboneRefusedError(
        `no backbone named, and the default backbone ${model} (TRAINING_DEFAULT_BACKBONE) is not in the registry: push it (loupe model push), or name a registry model whose manifest names a feature output`,
      );
    }
    return { model, version: summary.latestVersion };
  }

  /** Unpacks, verifies and loads the backbone, cropping at `cropScale`; refused when its manifest names no feature output. */
  async open(ref: BackboneRef, cropScale: number): Promise<OpenBackbone> {
    const unpacked = await this.packages.unpack(ref.model, ref.version);
    try {
      const spec = backboneOf(unpacked.verified.model);
      if (!spec) throw new RunRefusedError(`${ref.model} version ${ref.version} cannot be a backbone: its manifest names no feature output (features)`);
      const onnx = await readFile(unpacked.verified.modelPath);
      const extractor = await FeatureExtractor.create(onnx, spec, { cropScale });
      return {
        ref,
        spec,
        onnx,
        // The same bytes fed the same way give the same features: the preprocessing is part of the key.
        sha256: createHash('sha256').update(onnx).update(JSON.stringify(spec)).digest('hex'),
        features: (inputs) => extractor.extract(inputs),
        close: () => extractor.release(),
      };
    } finally {
      // Everything the run needs is in memory now.
      await unpacked.dispose();
    }
  }
}
