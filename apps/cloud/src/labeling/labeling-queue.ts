import { Inject, Injectable } from '@nestjs/common';
import { DomainError, GroupCommit } from '@loupe/service';
import { LABELING_SETTINGS } from '../infrastructure.tokens';
import { recordAnswersAndClaim, type Answer, type GivenAnswer, type NextClaim, type RecordedAnswer, type SettledState } from './answer-commit';
import { CachedCount } from './cached-count';
import { LabelAnswerRepository } from './label-answer.repository';
import { LabelTaskRepository, toClaimedSample } from './label-task.repository';
import { queuePriority } from './queue-priority';
import { LeaseLostError, TaskLeases, type LabelerClaim, type LeaseHolder } from './task-leases';

export { LeaseLostError, type ClaimedSample, type LabelerClaim, type LeaseHolder } from './task-leases';
export type { Answer } from './answer-commit';

/** The labeler already answered this sample (HTTP 409). */
export class AlreadyAnsweredError extends DomainError {
  readonly kind = 'conflict';
  constructor(sampleId: string) {
    super(`sample ${sampleId} already has your answer`);
  }
}

/** The caller has no answer on the sample to take back (HTTP 404). */
export class NoAnswerToUndoError extends DomainError {
  readonly kind = 'not_found';
  constructor(sampleId: string) {
    super(`you have no answer on sample ${sampleId} to take back`);
  }
}

/** The answer exists but can no longer be taken back; the message says why (HTTP 409). */
export class UndoRefusedError extends DomainError {
  readonly kind = 'conflict';
  constructor(message: string) {
    super(message);
    this.name = 'UndoRefusedError';
  }
}

/** What the composition root configures for labeling. */
export interface LabelingSettings {
  /** How long a claim holds a sample, and how long an answer can be taken back. */
  leaseSeconds: number;
}

/** A stored sample, as the queue needs it to place it. */
export interface IncomingSample {
  id: string;
  modelName: string;
  /** The class the model leaned to: its top-scoring label, or its verdict. */
  predictedClass: string;
  samplerPriority: number;
  reason: string;
}

// Groups of up to 64 answers, two at a time: enough for two server cores to
// work side by side, and few enough that most answers wait for a group.
const ANSWER_GROUPS = { maxGroup: 64, concurrency: 2 };

/**
 * A project's labeling queue. A claim takes the most useful open sample the
 * labeler has not answered or skipped, under a lease; concurrent claims pass
 * each other instead of queueing on one row (see claimBest). Each claim
 * raises the row's fencing token, and every later call must present the
 * current token before its lease runs out.
 */
@Injectable()
export class LabelingQueue {
  private readonly leaseSeconds: number;
  private readonly leases: TaskLeases;
  private readonly answers: GroupCommit<GivenAnswer, RecordedAnswer | undefined>;
  private readonly depths: CachedCount;
  private classCounts: { at: number; byModel: Map<string, { total: number; byClass: Map<string, number> }> } | undefined;

  constructor(
    @Inject(LabelTaskRepository) private readonly tasks: LabelTaskRepository,
    @Inject(LabelAnswerRepository) private readonly labels: LabelAnswerRepository,
    @Inject(LABELING_SETTINGS) settings: LabelingSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.leaseSeconds = settings.leaseSeconds;
    this.leases = new TaskLeases(tasks, settings.leaseSeconds, now);
    this.answers = new GroupCommit((given) => recordAnswersAndClaim(labels, given, settings.leaseSeconds), ANSWER_GROUPS);
    this.depths = new CachedCount((projectId) => tasks.count(projectId, ['open', 'leased']), now);
  }

  /**
   * Queues samples in the project that takes their model's samples, if
   * there is one. Idempotent: a sample already queued stays where it is, so
   * ingest can queue every sample it stores, repeats included.
   */
  async enqueue(samples: IncomingSample[]): Promise<void> {
    if (samples.length === 0) return;
    const counts = await this.labelCounts();
    const priorities = samples.map((sample) => {
      const project = counts.get(sample.modelName);
      return queuePriority({
        samplerPriority: sample.samplerPriority,
        reason: sample.reason,
        labelsOfPredictedClass: project?.byClass.get(sample.predictedClass) ?? 0,
        labelsInProject: project?.total ?? 0,
      });
    });
    await this.tasks.enqueue(samples.map((sample, index) => ({ sampleId: sample.id, modelName: sample.modelName, priority: priorities[index]! })));
  }

  /** Claims the most useful sample for the labeler, if there is one. */
  async claim(projectId: string, labelerId: string): Promise<LabelerClaim> {
    await this.leases.returnExpired(projectId);
    // A row another claim took between the pick and the update fails the
    // re-check; the next attempt picks another.
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.tasks.claim(projectId, labelerId, this.leaseSeconds);
      if (row) return { sample: toClaimedSample(row), answeredToday: row.answered_today };
      if (!(await this.tasks.hasClaimable(projectId, labelerId))) break;
    }
    return { sample: undefined, answeredToday: await this.answeredToday(labelerId) };
  }

  /** Extends a lease by the lease time from now. */
  heartbeat(holder: LeaseHolder): Promise<Date> {
    return this.leases.heartbeat('leased', holder);
  }

  /**
   * Records the answer and ends the lease: the sample is settled, goes to
   * review on disagreement, or returns to the queue for the next of its K
   * answers. Answers that arrive together are recorded together.
   */
  async submit(holder: LeaseHolder, answer: Answer): Promise<SettledState> {
    return (await this.record({ holder, answer, claimNext: false })).state;
  }

  /**
   * Submits, and claims the labeler's next sample in the same project: one
   * request per answer for the labeler UI. Concurrent labelers' answers and
   * next claims share one transaction (see recordAnswersAndClaim).
   */
  async submitAndClaim(holder: LeaseHolder, answer: Answer): Promise<{ state: SettledState; projectId: string; next: LabelerClaim }> {
    const recorded = await this.record({ holder, answer, claimNext: true });
    await this.leases.returnExpired(recorded.projectId);
    // Nothing claimed with the answer: the queue is empty for this labeler,
    // or the group's rows ran out for them; claim tells which.
    const next = recorded.next ?? (await this.claim(recorded.projectId, holder.labelerId));
    return { state: recorded.state, projectId: recorded.projectId, next };
  }

  private async record(given: GivenAnswer): Promise<RecordedAnswer> {
    const recorded = await this.answers.add(given);
    if (!recorded) throw await this.whyNotSubmitted(given.holder);
    // This process's own answers show in the depth it hands out at once.
    if (recorded.state !== 'open') this.depths.subtract(recorded.projectId, 1);
    return recorded;
  }

  private async whyNotSubmitted(holder: LeaseHolder): Promise<Error> {
    const { held, answered } = await this.labels.submission(holder);
    return held && answered ? new AlreadyAnsweredError(holder.sampleId) : new LeaseLostError(holder.sampleId);
  }

  /**
   * Takes back the labeler's answer on a sample and leases the sample to
   * them again, so they can answer it anew. Allowed for the lease time after
   * answering, while no one else holds the sample and no reviewer has
   * decided it: after that, others may have built on the answer.
   */
  async undo(labelerId: string, sampleId: string): Promise<NextClaim> {
    const row = await this.labels.undo(labelerId, sampleId, this.leaseSeconds);
    if (!row) throw await this.whyNotUndone(labelerId, sampleId);
    return { sample: toClaimedSample(row), answeredToday: row.answered_today };
  }

  private async whyNotUndone(labelerId: string, sampleId: string): Promise<Error> {
    const found = await this.labels.answerStanding(labelerId, sampleId, this.leaseSeconds);
    if (!found) return new NoAnswerToUndoError(sampleId);
    if (found.reviewed || found.state === 'reviewing') return new UndoRefusedError('a reviewer has taken this sample up; your answer stays');
    if (!found.recent) return new UndoRefusedError(`an answer can be taken back for ${this.leaseSeconds} s after it is given; this one is older`);
    return new UndoRefusedError('another labeler is answering this sample now; your answer stays');
  }

  /** Gives the sample back without an answer; this labeler is not offered it again. */
  async skip(holder: LeaseHolder): Promise<void> {
    if (!(await this.tasks.skip(holder))) throw new LeaseLostError(holder.sampleId);
  }

  /** Gives the sample back without an answer, for anyone to claim again (a closed tab, a break). */
  release(holder: LeaseHolder): Promise<void> {
    return this.leases.release('leased', holder);
  }

  /**
   * Samples waiting for an answer in the project, leased ones included.
   * Labelers see it on every claim, so it is counted at most once a second.
   */
  depth(projectId: string): Promise<number> {
    return this.depths.get(projectId);
  }

  /**
   * Answers the labeler gave in the project since midnight, for the queue
   * screen's counter; counted from the labeler's own labels of the day
   * (index labels(labeler_id, created_at)), so undone answers drop out.
   */
  answeredTodayIn(projectId: string, labelerId: string): Promise<number> {
    return this.labels.answeredTodayIn(projectId, labelerId);
  }

  /** Answers the labeler gave since midnight. */
  answeredToday(labelerId: string): Promise<number> {
    return this.labels.answeredToday(labelerId);
  }

  /**
   * Labels per class per project, for class rarity. Counting every label on
   * each ingest batch would grow with the dataset, so the counts are read at
   * most once a minute: rarity moves slowly.
   */
  private async labelCounts() {
    if (this.classCounts && this.now() - this.classCounts.at < 60_000) return this.classCounts.byModel;
    const rows = await this.labels.countsByModelAndAnswer();
    const byModel = new Map<string, { total: number; byClass: Map<string, number> }>();
    for (const row of rows) {
      const project = byModel.get(row.model_name) ?? { total: 0, byClass: new Map<string, number>() };
      project.total += row.n;
      project.byClass.set(row.answer_key, row.n);
      byModel.set(row.model_name, project);
    }
    this.classCounts = { at: this.now(), byModel };
    return byModel;
  }
}
