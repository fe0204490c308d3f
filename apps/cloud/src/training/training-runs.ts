import { randomUUID } from 'node:crypto';
import type { StartTrainingRunRequest, TrainingRunDto } from '@loupe/api-contracts';
import { trainingRecipeSchema } from '@loupe/api-contracts';
import { Inject, Injectable } from '@nestjs/common';
import { CLOUD_METRICS } from '../infrastructure.tokens';
import { ProjectRepository } from '../labeling/project.repository';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { Backbones, type BackboneRef } from './backbones';
import type { NewTrainingRun, TrainingRun } from './training-run';
import { TrainingRunRepository } from './training-run.repository';
import { TrainingRunFinishedError, TrainingRunNotFoundError } from './training.errors';
import type { TrainingRunQueue } from './training-triggers';
import type { DueTrigger, LatestRun } from './trigger-planner';
import { TrainingWorker } from './training-worker';

// Runs a project lists: the Training screen's table and learning curve; older runs stay in the table.
const LISTED_RUNS = 200;

/** A run to queue: what a person asked for, or what the project's triggers asked for. */
export interface TrainingRunRequest {
  projectId: string;
  backbone?: BackboneRef;
  recipe?: StartTrainingRunRequest['recipe'];
  trigger: TrainingRunDto['trigger'];
  /** A user's name, or `policy`. */
  startedBy: string;
  /** The user the candidate will be credited to: who started the run, or who set the policy that did. */
  authorId: string;
}

/** Training runs for people and triggers: queue, read and cancel; workers do the training. */
@Injectable()
export class TrainingRuns implements TrainingRunQueue {
  constructor(
    @Inject(TrainingRunRepository) private readonly runs: TrainingRunRepository,
    @Inject(ProjectRepository) private readonly projects: Pick<ProjectRepository, 'get'>,
    @Inject(Backbones) private readonly backbones: Pick<Backbones, 'resolve'>,
    @Inject(TrainingWorker) private readonly worker: Pick<TrainingWorker, 'wake'>,
    @Inject(CLOUD_METRICS) private readonly metrics: Pick<CloudMetrics, 'trainingRuns'>,
  ) {}

  /** Queues a run of the project on the backbone named (the default's latest when none) and wakes this replica's worker. */
  async start(request: TrainingRunRequest): Promise<TrainingRun> {
    const run = await this.runs.insert(await this.newRun(request));
    this.worker.wake();
    return run;
  }

  /**
   * A run the project's triggers start, on the default backbone and recipe,
   * on behalf of whoever set the policy; undefined when the project has a run
   * queued or running already.
   */
  async enqueue(request: { projectId: string; trigger: DueTrigger; requestedBy: string }): Promise<{ id: string } | undefined> {
    const run = await this.runs.insertUnlessBusy(await this.newRun({ projectId: request.projectId, trigger: request.trigger, startedBy: 'policy', authorId: request.requestedBy }));
    if (run) this.worker.wake();
    return run && { id: run.id };
  }

  /** The project's newest run, for the triggers: its state, when it was queued, and the labels it froze. */
  async latestRun(projectId: string): Promise<LatestRun | undefined> {
    const [run] = await this.runs.ofProject(projectId, 1);
    return run && { state: run.state, createdAt: run.createdAt, datasetLabels: run.dataset?.labels ?? null };
  }

  private async newRun(request: TrainingRunRequest): Promise<NewTrainingRun> {
    const project = await this.projects.get(request.projectId);
    return {
      id: randomUUID(),
      projectId: project.id,
      modelName: project.modelName,
      trigger: request.trigger,
      startedBy: request.startedBy,
      authorId: request.authorId,
      backbone: await this.backbones.resolve(request.backbone),
      recipe: trainingRecipeSchema.parse(request.recipe ?? {}),
    };
  }

  async list(projectId: string): Promise<TrainingRun[]> {
    await this.projects.get(projectId);
    return this.runs.ofProject(projectId, LISTED_RUNS);
  }

  async get(id: string): Promise<TrainingRun> {
    const run = await this.runs.find(id);
    if (!run) throw new TrainingRunNotFoundError(id);
    return run;
  }

  /** Cancels a queued or running run; its worker stops at its next step. */
  async cancel(id: string): Promise<TrainingRun> {
    const cancelled = await this.runs.cancel(id);
    if (cancelled) {
      this.metrics.trainingRuns.inc({ outcome: 'cancelled' });
      return cancelled;
    }
    const run = await this.get(id);
    throw new TrainingRunFinishedError(id, run.state);
  }
}
