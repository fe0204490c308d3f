import type { ModelPipeline } from '@loupe/inference';
import type { MqttLink } from '@loupe/mqtt';
import { describeModel, parseDesiredState, sameModel, type DesiredModel, type UpdateStatus } from '@loupe/device-state';
import { planUpdate, withFailure, type UpdateFailure, type UpdateStep, type UpdateStepKind } from '@loupe/ota';
import { DesiredState } from '@loupe/proto';
import { WakeableLoop } from '@loupe/service';
import type { Logger } from 'pino';
import type { BoxStateFile, PersistedBoxState } from './box-state-file';
import { AFTER_STEP, type FaultPoints } from './fault-points';
import type { ModelSelfTest } from './model-self-test';
import type { ModelStore } from './model-store';
import type { ModelWarmUp } from './model-warm-up';
import type { OtaMetrics } from './ota-metrics';
import type { PackageDownload } from './package-download';
import type { PackageVerification } from './package-verification';
import type { ProbationFailure } from './probation-watch';
import type { ShadowUpdater } from './shadow-updater';
import type { StateReporter } from './state-reporter';
import { failureOf, UpdateStepError } from './update-step.error';
import type { VersionActivation } from './version-activation';
import type { VersionRollback } from './version-rollback';
import type { VersionStaging } from './version-staging';

/** One executor per step kind. */
export interface UpdateExecutors {
  download: PackageDownload;
  verification: PackageVerification;
  staging: VersionStaging;
  warmUp: ModelWarmUp;
  selfTest: ModelSelfTest;
  activation: VersionActivation;
  rollback: VersionRollback;
}

export interface ModelUpdaterParts {
  link: MqttLink;
  desiredTopic: string;
  state: BoxStateFile;
  store: ModelStore;
  executors: UpdateExecutors;
  shadow: ShadowUpdater;
  reporter: StateReporter;
  metrics: OtaMetrics;
  faults: FaultPoints;
  logger: Logger;
}

type ActionStep = Exclude<UpdateStep, { kind: 'nothing' }>;

/** The status reported while a step runs; activate and roll-back report `active` once done. */
const STATUS_DURING: Record<ActionStep['kind'], UpdateStatus | undefined> = {
  download: 'downloading',
  verify: 'verifying',
  stage: 'verifying',
  'warm-up': 'warming-up',
  'self-test': 'self-testing',
  activate: undefined,
  'roll-back': undefined,
};

const isAction = (step: UpdateStep): step is ActionStep => step.kind !== 'nothing';

interface Run {
  desired: DesiredModel;
  controller: AbortController;
}

/**
 * OTA on the box as a reconcile loop: the cloud's retained DesiredState
 * says which model this device should serve; the pure planner (libs/edge/ota)
 * turns it and the box state into steps, and one executor per step kind
 * applies them, one update at a time. A newer desired state is taken after
 * the current step (a download for another model is abandoned at once,
 * keeping its partial file); a model failing probation is rolled back
 * first. Every status change is persisted and reported. The shadow the
 * desired state names comes after the model to serve, in the same loop, so
 * the two never fetch or stage at once.
 */
export class ModelUpdater {
  private latest: DesiredModel | undefined;
  private running: Run | undefined;
  private probationFailure: ProbationFailure | undefined;
  private probationPassed = false;
  /** Reconciles, then sleeps until the next change (a desired state, a probation outcome). */
  private readonly loop: WakeableLoop;
  private readonly log: Logger;

  constructor(private readonly parts: ModelUpdaterParts) {
    this.log = parts.logger.child({ component: 'model-updater' });
    this.loop = new WakeableLoop(
      async () => {
        await this.reconcile();
        return Number.POSITIVE_INFINITY;
      },
      { onError: (error) => this.log.error({ err: error }, 'reconcile failed; trying again at the next change') },
    );
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  /** Takes desired states from now on; they wait until run() starts the loop. */
  async listen(): Promise<void> {
    const { link, desiredTopic } = this.parts;
    link.onMessage(desiredTopic, (_topic, payload) => this.receive(payload));
    await link.subscribe(desiredTopic, 1);
  }

  /** Starts reconciling; the box must be serving its start-up model already. */
  run(): void {
    this.loop.start();
  }

  probationFailed(failure: ProbationFailure): void {
    if (this.probationFailure) return;
    this.probationFailure = failure;
    this.running?.controller.abort();
    this.notify();
  }

  probationPassedWindow(): void {
    this.probationPassed = true;
    this.notify();
  }

  async stop(): Promise<void> {
    // Marks the loop stopped before the abort, which the running step checks.
    const stopped = this.loop.stop();
    this.running?.controller.abort();
    this.parts.shadow.abandon();
    await stopped;
  }

  private receive(payload: Buffer): void {
    const { metrics } = this.parts;
    // An empty retained message is how a retained message is deleted (MQTT 5.0 section 3.3.1.3).
    if (payload.length === 0) {
      metrics.desiredMessages.inc({ outcome: 'empty' });
      this.log.info('desired state cleared; keeping the current model');
      return;
    }
    let desired: DesiredModel;
    try {
      desired = parseDesiredState(DesiredState.decode(payload));
    } catch (error) {
      metrics.desiredMessages.inc({ outcome: 'invalid' });
      this.log.warn({ reason: (error as Error).message, bytes: payload.length }, 'desired state ignored: not a valid DesiredState');
      return;
    }
    if (this.latest && desired.generation <= this.latest.generation) {
      metrics.desiredMessages.inc({ outcome: 'older' });
      this.log.debug({ generation: desired.generation, latest: this.latest.generation }, 'desired state ignored: not newer than the last one');
      return;
    }
    metrics.desiredMessages.inc({ outcome: 'accepted' });
    this.log.info({ generation: desired.generation, model: describeModel(desired.model), rolloutId: desired.rolloutId || undefined }, 'desired state received');
    this.latest = desired;
    if (this.running && !sameModel(this.running.desired.model, desired.model)) this.running.controller.abort();
    this.parts.shadow.supersede(desired);
    this.notify();
  }

  private notify(): void {
    this.loop.wake();
  }

  private async reconcile(): Promise<void> {
    const failure = this.probationFailure;
    if (failure) {
      await this.rollBackOnProbation(failure);
      this.probationFailure = undefined;
    }
    if (this.probationPassed) {
      this.probationPassed = false;
      await this.endProbation();
    }
    const desired = this.latest;
    if (!desired || this.stopped) return;
    const steps = planUpdate(desired, this.parts.state.current);
    const nothing = steps.find((step) => step.kind === 'nothing');
    if (nothing) {
      await this.settleUnchanged(desired, nothing);
      // Nothing to fetch: a download or unpacking a crash left behind holds space for nothing.
      if (nothing.reason === 'up-to-date' || nothing.reason === 'failed-before') await this.pruneToState();
    } else {
      await this.apply(desired, steps.filter(isAction));
    }
    if (!this.stopped && this.latest === desired && !this.probationFailure) await this.parts.shadow.reconcile(desired);
  }

  private async apply(desired: DesiredModel, steps: ActionStep[]): Promise<void> {
    const run: Run = { desired, controller: new AbortController() };
    this.running = run;
    let pipeline: ModelPipeline | undefined;
    let step: ActionStep | undefined;
    try {
      for (step of steps) {
        if (this.stopped || this.latest !== desired || this.probationFailure) return;
        const status = STATUS_DURING[step.kind];
        if (status) await this.report(desired, status, '');
        const started = performance.now();
        pipeline = await this.execute(step, run, pipeline);
        this.parts.faults.reached(AFTER_STEP[step.kind]);
        this.parts.metrics.stepSeconds.observe({ step: step.kind }, (performance.now() - started) / 1_000);
      }
      const outcome = step?.kind === 'roll-back' ? 'rolled_back' : 'activated';
      this.parts.metrics.updates.inc({ outcome, step: step?.kind ?? 'activate', reason: 'ok' });
      if (step?.kind === 'roll-back') this.parts.metrics.rollbacks.inc({ reason: 'desired' });
      this.log.info({ model: describeModel(desired.model), generation: desired.generation }, 'update done');
    } catch (error) {
      if (run.controller.signal.aborted) {
        this.log.info({ model: describeModel(desired.model), step: step?.kind }, 'update interrupted by a newer desired state or a rollback; planning again');
        return;
      }
      await this.fail(desired, step?.kind ?? 'download', error);
    } finally {
      this.running = undefined;
      await pipeline?.close();
      // A candidate set aside unloaded is no longer loading.
      if (this.parts.state.current.loading) await this.parts.state.change(({ loading: _loading, ...state }) => state);
    }
  }

  /** Runs one step; resolves with the candidate pipeline, loaded by warm-up and handed to the slot by activate. */
  private async execute(step: ActionStep, run: Run, pipeline: ModelPipeline | undefined): Promise<ModelPipeline | undefined> {
    const { executors } = this.parts;
    switch (step.kind) {
      case 'download':
        await executors.download.run(step.desired, run.controller.signal);
        return pipeline;
      case 'verify':
        await executors.verification.run(step.desired);
        return pipeline;
      case 'stage':
        await executors.staging.run(step.desired);
        return pipeline;
      case 'warm-up':
        return executors.warmUp.run(step.desired);
      case 'self-test':
        await executors.selfTest.run(loaded(pipeline, step.kind));
        return pipeline;
      case 'activate':
        await executors.activation.run(step.desired, loaded(pipeline, step.kind));
        await this.report(step.desired, 'active', '');
        return undefined;
      case 'roll-back':
        await executors.rollback.run((current) => ({ ...current, settledGeneration: step.desired.generation }));
        await this.report(step.desired, 'active', '');
        return pipeline;
    }
  }

  private async fail(desired: DesiredModel, stepKind: ActionStep['kind'], error: unknown): Promise<void> {
    const { step, reason, message } = failureOf(stepKind, error);
    const failure: UpdateFailure = { model: desired.model, generation: desired.generation, step, reason, message };
    this.log.error({ model: describeModel(desired.model), generation: desired.generation, step, reason, err: message }, 'update failed; keeping the current model');
    this.parts.metrics.updates.inc({ outcome: 'failed', step, reason });
    const { state, faults, reporter } = this.parts;
    const report = reportOf(desired, 'failed', errorText(failure), 0);
    let recorded = true;
    try {
      await state.change(({ staged, loading: _loading, ...current }) => ({
        ...current,
        ...(staged && !sameModel(staged, desired.model) ? { staged } : {}),
        failures: withFailure(current.failures, failure),
        settledGeneration: desired.generation,
        report,
      }));
      faults.reached('fail:recorded');
    } catch (writeError) {
      // A full disk can refuse the very record of its failure: the cloud is told all the same.
      recorded = false;
      this.log.error({ model: describeModel(desired.model), err: (writeError as Error).message }, 'could not record the failed update; reporting it anyway');
    } finally {
      // Partial and unpacked files go even when the failure could not be recorded: they hold the space.
      await this.pruneToState();
    }
    await reporter.publish(recorded ? undefined : report);
  }

  /** Removes downloads, unpacking and every version the durable state does not name. */
  private async pruneToState(): Promise<void> {
    const { active, previous, staged } = this.parts.state.current;
    await this.parts.store.prune([active, previous, staged].filter((model) => model !== undefined));
  }

  /** The plan is "nothing": record that this generation is settled, and say how it stands. */
  private async settleUnchanged(desired: DesiredModel, nothing: Extract<UpdateStep, { kind: 'nothing' }>): Promise<void> {
    const { state } = this.parts;
    switch (nothing.reason) {
      case 'stale-generation':
      case 'duplicate-generation':
        this.log.debug({ generation: desired.generation, reason: nothing.reason }, 'desired state needs nothing');
        return;
      case 'up-to-date': {
        // Settled and reported are two writes: power lost between them leaves the report behind.
        const { settledGeneration, report } = state.current;
        if (settledGeneration === desired.generation && report.status === 'active' && report.generation === desired.generation) return;
        await state.change((current) => ({
          ...current,
          settledGeneration: desired.generation,
          report: reportOf(desired, 'active', '', current.probation?.crashes ?? 0),
        }));
        break;
      }
      case 'failed-before': {
        const failure = nothing.failure;
        if (!failure) return;
        const status = failure.step === 'probation' ? 'rolled-back' : 'failed';
        if (state.current.report.generation === desired.generation && state.current.report.status === status) return;
        this.log.info({ model: describeModel(desired.model), step: failure.step, reason: failure.reason }, 'desired version failed here before; not trying it again for this generation');
        await state.change((current) => ({ ...current, report: reportOf(desired, status, errorText(failure), current.report.crashes) }));
        break;
      }
    }
    await this.parts.reporter.publish();
  }

  private async rollBackOnProbation(verdict: ProbationFailure): Promise<void> {
    const { state, executors, metrics, reporter } = this.parts;
    const probation = state.current.probation;
    if (!probation) return;
    const failure: UpdateFailure = {
      model: probation.model,
      generation: state.current.settledGeneration ?? 0,
      step: 'probation',
      reason: verdict.reason,
      message: verdict.detail,
    };
    const error = errorText(failure);
    this.log.error({ model: describeModel(probation.model), reason: verdict.reason, detail: verdict.detail }, 'model failed probation; rolling back');
    const record = (current: PersistedBoxState): PersistedBoxState => ({
      ...current,
      failures: withFailure(current.failures, failure),
      report: { ...current.report, status: 'rolled-back', error, crashes: probation.crashes },
    });
    try {
      await executors.rollback.run(record);
      metrics.rollbacks.inc({ reason: verdict.reason });
      metrics.updates.inc({ outcome: 'rolled_back', step: 'probation', reason: verdict.reason });
    } catch (rollbackError) {
      // Nothing to go back to: the model keeps serving, and the cloud is told why.
      this.log.error({ reason: (rollbackError as Error).message }, 'cannot roll back; the model on probation keeps serving');
      await state.change(({ probation: _ended, ...current }) => ({
        ...record(current),
        report: { ...current.report, status: 'failed', error: `${error}; not rolled back: ${(rollbackError as Error).message}`, crashes: probation.crashes },
      }));
    }
    await reporter.publish();
  }

  private async endProbation(): Promise<void> {
    const probation = this.parts.state.current.probation;
    if (!probation) return;
    await this.parts.state.change(({ probation: _passed, ...state }) => state);
    this.log.info({ model: describeModel(probation.model) }, 'model passed probation');
  }

  private async report(desired: DesiredModel, status: UpdateStatus, error: string): Promise<void> {
    const { state, reporter } = this.parts;
    const { report } = state.current;
    if (report.status === status && report.generation === desired.generation && report.error === error && report.rolloutId === desired.rolloutId) return;
    await state.change((current) => ({ ...current, report: reportOf(desired, status, error, current.probation?.crashes ?? 0) }));
    await reporter.publish();
  }
}

function reportOf(desired: DesiredModel, status: UpdateStatus, error: string, crashes: number): PersistedBoxState['report'] {
  return { status, error, generation: desired.generation, rolloutId: desired.rolloutId, crashes };
}

function errorText(failure: UpdateFailure): string {
  return `${failure.step} failed (${failure.reason}): ${failure.message}`;
}

function loaded(pipeline: ModelPipeline | undefined, step: UpdateStepKind): ModelPipeline {
  if (!pipeline) throw new UpdateStepError('warm-up', 'not-loaded', `${step} needs the model loaded by warm-up, and it is not`);
  return pipeline;
}
