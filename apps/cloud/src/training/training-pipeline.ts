import type { DatasetVersionDto, EvaluationDto, ProjectDto } from '@loupe/api-contracts';
import { datasetVersion, evaluate, headProbabilities, trainHead, type LinearHead } from '@loupe/trainer';
import { Inject, Injectable } from '@nestjs/common';
import type { BlobStore } from '../blobs/blob-store';
import { BLOB_STORE, CLOUD_METRICS } from '../infrastructure.tokens';
import { DatasetExportRepository, type SettledSample } from '../labeling/dataset-export.repository';
import { ProjectRepository } from '../labeling/project.repository';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { Backbones, type OpenBackbone } from './backbones';
import { candidateClassifier, candidateDecision, goldenSamplesOf } from './candidate-model';
import { CandidatePublisher, type PublishedCandidate } from './candidate-publisher';
import { ChampionEvaluation, type Champion } from './champion-evaluation';
import { FeatureCache } from './feature-cache';
import type { RunReporter } from './run-reporter';
import type { TrainingRun } from './training-run';
import { bySplit, shortfallOf, trainingExamples, type TrainingExample } from './training-examples';
import { RunRefusedError } from './training.errors';

interface FrozenDataset {
  project: ProjectDto;
  examples: TrainingExample[];
  dataset: DatasetVersionDto;
}

/** A head trained and judged: what the publisher needs besides the run. */
interface Judged {
  head: LinearHead;
  challenger: EvaluationDto;
  champion: Champion | null;
}

/**
 * One run from settled labels to a published candidate, phase by phase:
 * freeze the dataset version, extract features through the cache, train the
 * head, evaluate it and the champion on the test split, write the head into
 * the backbone's graph and hand it to the CandidatePublisher (the promotion
 * feature: registry push, lineage, policy). Each phase writes what it found
 * and its progress through the RunReporter, whose lease fences every write;
 * the signal stops the run between steps.
 */
@Injectable()
export class TrainingPipeline {
  constructor(
    @Inject(ProjectRepository) private readonly projects: Pick<ProjectRepository, 'get'>,
    @Inject(DatasetExportRepository) private readonly labels: Pick<DatasetExportRepository, 'snapshot'>,
    @Inject(Backbones) private readonly backbones: Pick<Backbones, 'open'>,
    @Inject(FeatureCache) private readonly features: FeatureCache,
    @Inject(ChampionEvaluation) private readonly champions: Pick<ChampionEvaluation, 'evaluate'>,
    @Inject(CandidatePublisher) private readonly publisher: Pick<CandidatePublisher, 'publish'>,
    @Inject(BLOB_STORE) private readonly blobs: Pick<BlobStore, 'get'>,
    @Inject(CLOUD_METRICS) private readonly metrics: Pick<CloudMetrics, 'trainingFeatures'>,
  ) {}

  async run(run: TrainingRun, reporter: RunReporter, signal: AbortSignal): Promise<PublishedCandidate> {
    const frozen = await this.freeze(run, reporter);
    signal.throwIfAborted();
    const backbone = await this.backbones.open(run.backbone, run.recipe.cropScale);
    try {
      const vectors = await this.extract(backbone, frozen.examples, reporter, signal);
      const head = await this.train(run.recipe, frozen, backbone, vectors, reporter);
      const judged = await this.evaluate(frozen, head, vectors, reporter, signal);
      signal.throwIfAborted();
      return await this.publish(run, frozen, backbone, vectors, judged, reporter);
    } finally {
      await backbone.close();
    }
  }

  private async publish(run: TrainingRun, frozen: FrozenDataset, backbone: OpenBackbone, vectors: Float32Array[], judged: Judged, reporter: RunReporter): Promise<PublishedCandidate> {
    await reporter.progress('packaging', 0, 1);
    const { project, examples, dataset } = frozen;
    const classifier = candidateClassifier(run.modelName, backbone, judged.head, candidateDecision(project.classes, judged.champion?.decision));
    const test = examples.flatMap((example, index) => (example.split === 'test' ? [{ example, vector: vectors[index]! }] : []));
    const published = await this.publisher.publish({
      runId: run.id,
      project: { id: project.id, modelName: run.modelName },
      classifier,
      goldenSamples: await goldenSamplesOf(judged.head, test, (example) => this.blobs.get(example.imageKey)),
      challenger: judged.challenger,
      champion: judged.champion?.evaluation ?? null,
      dataset,
      backbone: run.backbone,
      recipe: run.recipe,
      trigger: run.trigger,
      startedBy: run.startedBy,
      authorId: run.authorId,
    });
    await reporter.progress('packaging', 1, 1);
    return published;
  }

  /** The project's settled labels as a dataset version: its hash names exactly the (sample, label, split) triples trained and tested on. */
  private async freeze(run: TrainingRun, reporter: RunReporter): Promise<FrozenDataset> {
    const project = await this.projects.get(run.projectId);
    const settled = await this.readSettled(project.id, (done, total) => reporter.progress('dataset', done, total));
    const examples = trainingExamples(project, settled, run.recipe.cropScale);
    const shortfall = shortfallOf(bySplit(examples));
    if (shortfall) throw new RunRefusedError(shortfall);
    const dataset = datasetVersion(examples.map((example) => ({ sampleId: example.sampleId, label: example.className, split: example.split })));
    await reporter.record({ dataset, progress: { phase: 'dataset', done: settled.length, total: settled.length } });
    return { project, examples, dataset };
  }

  /** Read in one snapshot and held in memory (a label is a few dozen bytes), so the transaction ends before any feature is computed. */
  private async readSettled(projectId: string, onProgress: (done: number, total: number) => Promise<void>): Promise<SettledSample[]> {
    const snapshot = await this.labels.snapshot(projectId);
    const settled: SettledSample[] = [];
    try {
      for await (const sample of snapshot.settled()) settled.push(sample);
    } finally {
      await snapshot.close();
    }
    // Reported after the snapshot is closed: on PGlite the pool's one connection is the snapshot's until then.
    await onProgress(0, settled.length);
    return settled;
  }

  private async extract(backbone: OpenBackbone, examples: TrainingExample[], reporter: RunReporter, signal: AbortSignal): Promise<Float32Array[]> {
    const extracted = await this.features.extract(backbone, examples, { signal, onProgress: (done, total) => reporter.progress('features', done, total) });
    this.metrics.trainingFeatures.inc({ source: 'computed' }, extracted.computed);
    this.metrics.trainingFeatures.inc({ source: 'cached' }, extracted.cached);
    await reporter.record({ features: { computed: extracted.computed, cached: extracted.cached } });
    return extracted.vectors;
  }

  private async train(recipe: TrainingRun['recipe'], frozen: FrozenDataset, backbone: OpenBackbone, vectors: Float32Array[], reporter: RunReporter): Promise<LinearHead> {
    await reporter.progress('training', 0, 1);
    const split = (name: TrainingExample['split']) => {
      const indices = frozen.examples.flatMap((example, index) => (example.split === name ? [index] : []));
      return { features: indices.map((index) => vectors[index]!), labels: indices.map((index) => frozen.examples[index]!.label) };
    };
    // Synchronous, and seconds long: the lease outlasts it (TRAINING_LEASE), and the progress is written when it returns.
    const { head } = trainHead({ classes: frozen.project.classes, featureOutput: backbone.spec.features.output, train: split('train'), val: split('val'), recipe });
    await reporter.progress('training', 1, 1);
    return head;
  }

  private async evaluate(frozen: FrozenDataset, head: LinearHead, vectors: Float32Array[], reporter: RunReporter, signal: AbortSignal): Promise<Judged> {
    const testIndices = frozen.examples.flatMap((example, index) => (example.split === 'test' ? [index] : []));
    const test = testIndices.map((index) => frozen.examples[index]!);
    const total = 2 * test.length;
    const challenger = evaluate(
      frozen.project.classes,
      testIndices.map((index) => headProbabilities(head, vectors[index]!)),
      test.map((example) => example.label),
    );
    await reporter.record({ challenger, progress: { phase: 'evaluation', done: test.length, total } });
    const champion = await this.champions.evaluate(frozen.project, test, { signal, onProgress: (done) => reporter.progress('evaluation', test.length + done, total) });
    await reporter.record({ ...(champion ? { champion: champion.evaluation } : {}), progress: { phase: 'evaluation', done: total, total } });
    return { head, challenger, champion };
  }
}
