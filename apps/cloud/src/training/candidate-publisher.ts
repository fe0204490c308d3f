import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  imageMediaTypeOf,
  type DatasetVersionDto,
  type EvaluationDto,
  type ModelLineage,
  type PromotionDecision,
  type TrainingRecipe,
} from '@loupe/api-contracts';
import type { ModelManifest } from '@loupe/inference';
import { MODEL_MANIFEST_FILE, signedPackage } from '@loupe/model-package';
import { Inject, Injectable } from '@nestjs/common';
import { REGISTRY_KEYS } from '../infrastructure.tokens';
import { ModelRegistry } from '../registry/model-registry';
import type { RegistryKeys } from '../registry/registry-keys';
import { Promotions } from './promotions';

/** A test-split image and the probabilities the trainer itself gave it: what the ONNX file must reproduce. */
export interface GoldenSample {
  sampleId: string;
  /** The image as stored (JPEG, PNG, ...), or the crop the classifier was trained on. */
  image: Uint8Array;
  /** Probability per class, from the trainer's own head on this sample's features. */
  expected: Record<string, number>;
}

/** What a training run hands over once its candidate is trained and evaluated. */
export interface Candidate {
  runId: string;
  project: { id: string; modelName: string };
  /** The backbone's graph with the trained head, and its manifest, as classifierModel wrote them. */
  classifier: { onnx: Uint8Array; manifest: ModelManifest };
  goldenSamples: GoldenSample[];
  challenger: EvaluationDto;
  /** The version serving the project when the run started, on the same test split; null when none did. */
  champion: (EvaluationDto & { version: number }) | null;
  dataset: DatasetVersionDto;
  backbone: { model: string; version: number };
  recipe: TrainingRecipe;
  trigger: ModelLineage['trigger'];
  /** A user's email, or `policy` for runs the project's triggers started. */
  startedBy: string;
  /**
   * The user the version is credited to in the registry: who started the
   * run, or for a run the triggers started, who set the project's policy.
   */
  authorId: string;
}

export interface PublishedCandidate {
  candidateVersion: number;
  decision: PromotionDecision;
  rolloutId: string | null;
}

// Boxes check golden samples after converting the model to TensorRT, often
// at fp16; a calibrated softmax moves by a few thousandths there, while a
// wrong graph or wrong pre-processing moves it by tenths.
const GOLDEN_TOLERANCE = 0.02;

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/bmp': 'bmp', 'image/tiff': 'tiff' };

/**
 * Pushes a training run's candidate to the registry like any push: packaged
 * with golden samples from the test split, signed with the trainer's
 * publisher key, validated by the registry (it loads, runs, and reproduces
 * the trainer's own probabilities on those images), numbered and signed by
 * the registry, with its lineage. Then the project's policy decides its
 * fate (Promotions). A refused package throws the registry's refusal and
 * nothing is decided.
 */
@Injectable()
export class CandidatePublisher {
  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(Promotions) private readonly promotions: Promotions,
    @Inject(REGISTRY_KEYS) private readonly keys: Pick<RegistryKeys, 'trainer'>,
  ) {}

  /**
   * Once per run: a retried run whose candidate was decided on already gets
   * that answer again, and pushes nothing.
   */
  async publish(candidate: Candidate): Promise<PublishedCandidate> {
    const earlier = await this.promotions.find(candidate.runId);
    if (earlier) return { candidateVersion: earlier.version, decision: earlier.decision, rolloutId: earlier.rolloutId };
    const tar = await this.signedPackage(candidate);
    const { challenger, champion } = candidate;
    const pushed = await this.registry.push(
      Readable.from([tar]),
      {
        metrics: { accuracy: challenger.accuracy, macroF1: challenger.macroF1, calibrationError: challenger.calibrationError },
        ...(champion ? { parentVersion: champion.version } : {}),
        notes: `trained by run ${candidate.runId} on ${candidate.dataset.labels} labels (dataset ${candidate.dataset.hash.slice(0, 12)})`,
        lineage: lineageOf(candidate),
      },
      candidate.authorId,
    );
    const { decision, rolloutId } = await this.promotions.decide({
      runId: candidate.runId,
      projectId: candidate.project.id,
      modelName: pushed.modelName,
      version: pushed.version,
      challenger,
      champion,
    });
    return { candidateVersion: pushed.version, decision, rolloutId };
  }

  /** The package tar, built in a scratch directory that is gone when this returns. */
  private async signedPackage(candidate: Candidate): Promise<Buffer> {
    const directory = await mkdtemp(join(tmpdir(), 'loupe-candidate-'));
    try {
      await mkdir(join(directory, 'golden'));
      const goldenSamples = await Promise.all(candidate.goldenSamples.map((sample, index) => writeGolden(directory, sample, index)));
      const manifest = {
        ...candidate.classifier.manifest,
        name: candidate.project.modelName,
        // The registry writes the version it gives the candidate.
        version: '0',
        modelFile: 'model.onnx',
        goldenSamples,
      };
      await writeFile(join(directory, 'model.onnx'), candidate.classifier.onnx);
      await writeFile(join(directory, MODEL_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      return (await signedPackage(directory, this.keys.trainer)).bytes;
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }
}

async function writeGolden(directory: string, sample: GoldenSample, index: number): Promise<ModelManifest['goldenSamples'][number]> {
  const extension = EXTENSIONS[imageMediaTypeOf(sample.image) ?? ''];
  if (!extension) throw new Error(`golden sample ${sample.sampleId} is not an image the registry can decode`);
  const image = `golden/${index}.${extension}`;
  await writeFile(join(directory, image), sample.image);
  return { image, expected: sample.expected, tolerance: GOLDEN_TOLERANCE };
}

function lineageOf(candidate: Candidate): ModelLineage {
  return {
    trainingRunId: candidate.runId,
    projectId: candidate.project.id,
    dataset: candidate.dataset,
    backbone: candidate.backbone,
    recipe: candidate.recipe,
    challenger: candidate.challenger,
    champion: candidate.champion,
    trigger: candidate.trigger,
    startedBy: candidate.startedBy,
  };
}
