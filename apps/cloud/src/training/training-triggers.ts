import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { WakeableLoop } from '@loupe/service';
import type { Logger } from 'pino';
import { LOGGER } from '../infrastructure.tokens';
import { TrainingPolicyRepository, type TriggerRow } from './training-policy.repository';
import { dueTrigger, type DueTrigger, type LatestRun } from './trigger-planner';

/**
 * The job engine as the triggers use it: implemented by the training runs'
 * own queue (it owns training_runs), provided under this class.
 */
export abstract class TrainingRunQueue {
  /** The project's newest run, however it started; undefined when it never had one. */
  abstract latestRun(projectId: string): Promise<LatestRun | undefined>;
  /**
   * Queues a run of the project with the default backbone and recipe, on
   * behalf of `requestedBy`. undefined when the project had a run queued or
   * running already, which the queue refuses atomically.
   */
  abstract enqueue(run: { projectId: string; trigger: DueTrigger; requestedBy: string }): Promise<{ id: string } | undefined>;
}

// Each check is one statement over the projects with a trigger and one
// lookup per such project: cheap enough every half minute, and a schedule
// of at least a quarter hour is never late by more than that.
const CHECK_EVERY_MS = 30_000;

/**
 * Starts training runs on a project's triggers: after every `everyNewLabels`
 * newly settled labels, or every `everyHours` when labels changed. Runs on
 * every replica; of several that find a project due at once, exactly one
 * starts its run (claimTrigger is a compare-and-set on the project's policy
 * row), and the queue itself never holds two queued runs of one project.
 * A run the triggers start is on behalf of whoever set the policy.
 */
@Injectable()
export class TrainingTriggers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log: Logger;
  private readonly loop: WakeableLoop;

  constructor(
    @Inject(TrainingPolicyRepository) private readonly policies: TrainingPolicyRepository,
    @Inject(TrainingRunQueue) private readonly queue: TrainingRunQueue,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'training-triggers' });
    this.loop = new WakeableLoop(
      async () => {
        await this.check();
        return CHECK_EVERY_MS;
      },
      { onError: (error) => this.log.error({ err: (error as Error).message }, 'training trigger check failed; trying again'), retryAfterErrorMs: CHECK_EVERY_MS },
    );
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /** One check of every project with a trigger; the runs it started. */
  async check(): Promise<{ projectId: string; runId: string; trigger: DueTrigger }[]> {
    const { now, rows } = await this.policies.triggerRows();
    const started: { projectId: string; runId: string; trigger: DueTrigger }[] = [];
    for (const row of rows) {
      const run = await this.startIfDue(row, now);
      if (run) started.push(run);
    }
    return started;
  }

  private async startIfDue(row: TriggerRow, now: Date): Promise<{ projectId: string; runId: string; trigger: DueTrigger } | undefined> {
    const { projectId } = row;
    const latestRun = await this.queue.latestRun(projectId);
    const trigger = dueTrigger({ ...row, latestRun, now });
    if (!trigger) return undefined;
    if (!(await this.policies.claimTrigger(projectId, row.triggered?.at ?? null, row.settledLabels))) return undefined;
    const queued = await this.queue.enqueue({ projectId, trigger, requestedBy: row.updatedBy });
    if (!queued) return undefined;
    this.log.info({ projectId, runId: queued.id, trigger, settledLabels: row.settledLabels }, 'training run started by its trigger');
    return { projectId, runId: queued.id, trigger };
  }
}
