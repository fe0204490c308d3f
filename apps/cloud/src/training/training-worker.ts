import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { WakeableLoop } from '@loupe/service';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { CloudConfig } from '../config/cloud-config';
import { CLOUD_CONFIG, CLOUD_METRICS, LOGGER } from '../infrastructure.tokens';
import type { CloudMetrics } from '../metrics/cloud-metrics';
import { RunLeaseLostError, RunReporter } from './run-reporter';
import type { RunLease, TrainingRun } from './training-run';
import { TrainingPipeline } from './training-pipeline';
import { TrainingRunRepository } from './training-run.repository';

type WorkerMetrics = Pick<CloudMetrics, 'trainingRuns' | 'trainingRunSeconds'>;

/** Why a run in progress was stopped from outside the pipeline. */
const SHUTDOWN = 'shutdown';

/**
 * Trains queued runs, one at a time, on any number of replicas: each poll
 * gives up on runs interrupted too often, then claims the oldest claimable
 * run under a lease (TrainingRunRepository.claim, SKIP LOCKED), so no two
 * workers train one run, and a run whose worker died is claimed again when
 * its lease runs out. While it trains, a heartbeat renews the lease; when
 * the heartbeat finds the lease gone (the run was cancelled, or this worker
 * stalled past its lease and another took over) the run is stopped.
 *
 * Runs from the application's bootstrap to its shutdown, when TRAINING_WORKER
 * is on; at shutdown the run in progress is stopped and handed back to the
 * queue without counting the attempt, for another replica to start again.
 */
@Injectable()
export class TrainingWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Names this process's claims; a restarted process is a new owner. */
  readonly owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly loop: WakeableLoop;
  private readonly log: Logger;
  private readonly settings: CloudConfig['training'];
  private current: AbortController | undefined;

  constructor(
    @Inject(TrainingRunRepository) private readonly runs: TrainingRunRepository,
    @Inject(TrainingPipeline) private readonly pipeline: Pick<TrainingPipeline, 'run'>,
    @Inject(CLOUD_METRICS) private readonly metrics: WorkerMetrics,
    @Inject(CLOUD_CONFIG) config: Pick<CloudConfig, 'training'>,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.settings = config.training;
    this.log = logger.child({ component: 'training-worker', owner: this.owner });
    this.loop = new WakeableLoop(() => this.turn(), {
      onError: (error) => this.log.error({ err: (error as Error).message }, 'training worker poll failed; trying again'),
      retryAfterErrorMs: this.settings.pollMs,
    });
  }

  onApplicationBootstrap(): void {
    if (this.settings.worker) this.loop.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Looks for a run now instead of at the next poll: a run was just queued on this replica. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops the run in progress at its next step, hands it back, and stops polling. */
  async stop(): Promise<void> {
    this.current?.abort(SHUTDOWN);
    await this.loop.stop();
  }

  /** One poll: retire abandoned runs, then claim and train one. */
  private async turn(): Promise<number> {
    for (const run of await this.runs.failAbandoned(this.settings.maxAttempts)) {
      this.metrics.trainingRuns.inc({ outcome: 'abandoned' });
      this.log.warn({ runId: run.id, attempts: run.attempts }, 'training run interrupted on its last attempt; failed');
    }
    if (this.loop.stopped) return 0;
    const claimed = await this.runs.claim(this.owner, this.settings.leaseSeconds, this.settings.maxAttempts);
    if (!claimed) return this.settings.pollMs;
    await this.train(claimed.run, claimed.lease);
    // Another run may be waiting: look at once.
    return 0;
  }

  private async train(run: TrainingRun, lease: RunLease): Promise<void> {
    const log = this.log.child({ runId: run.id, attempt: lease.attempt });
    const abort = new AbortController();
    this.current = abort;
    const heartbeat = setInterval(() => void this.beat(lease, abort, log), (this.settings.leaseSeconds * 1_000) / 3);
    const started = performance.now();
    log.info({ projectId: run.projectId, backbone: run.backbone }, 'training run claimed');
    try {
      const published = await this.pipeline.run(run, new RunReporter(this.runs, lease, this.settings.leaseSeconds), abort.signal);
      await this.end(lease, { state: 'succeeded', ...published }, log);
      this.observe('succeeded', started);
      log.info({ ...published }, 'training run succeeded');
    } catch (error) {
      await this.stopped(lease, abort, error, log, started);
    } finally {
      clearInterval(heartbeat);
      this.current = undefined;
    }
  }

  /** Renews the lease; a lease found gone stops the run. A failed renewal is retried at the next beat, while the lease lasts. */
  private async beat(lease: RunLease, abort: AbortController, log: Logger): Promise<void> {
    try {
      if (!(await this.runs.heartbeat(lease, this.settings.leaseSeconds))) abort.abort(new RunLeaseLostError(lease));
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'could not renew the training run lease');
    }
  }

  /** After the pipeline threw: hand back at shutdown, stand down when the lease is gone, fail the run otherwise. */
  private async stopped(lease: RunLease, abort: AbortController, error: unknown, log: Logger, started: number): Promise<void> {
    if (abort.signal.aborted && abort.signal.reason === SHUTDOWN) {
      const released = await this.runs.release(lease);
      this.metrics.trainingRuns.inc({ outcome: 'released' });
      log.info({ released }, 'training run handed back at shutdown');
      return;
    }
    if (error instanceof RunLeaseLostError || abort.signal.reason instanceof RunLeaseLostError) {
      this.metrics.trainingRuns.inc({ outcome: 'lost' });
      log.warn('training run no longer ours (cancelled, or claimed again after the lease ran out); stopped');
      return;
    }
    const message = (error as Error).message;
    await this.end(lease, { state: 'failed', error: message }, log);
    this.observe('failed', started);
    log.warn({ err: message }, 'training run failed');
  }

  private async end(lease: RunLease, outcome: Parameters<TrainingRunRepository['finish']>[1], log: Logger): Promise<void> {
    if (!(await this.runs.finish(lease, outcome))) log.warn({ outcome: outcome.state }, 'training run ended, but its lease was gone: the outcome was not written');
  }

  private observe(outcome: 'succeeded' | 'failed', started: number): void {
    this.metrics.trainingRuns.inc({ outcome });
    this.metrics.trainingRunSeconds.observe({ outcome }, (performance.now() - started) / 1_000);
  }
}
