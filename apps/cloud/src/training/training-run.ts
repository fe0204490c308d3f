import type { TRAINING_PHASE_NAMES, TrainingRunDto } from '@loupe/api-contracts';

export type TrainingPhase = (typeof TRAINING_PHASE_NAMES)[number];

/** A training run as the cloud keeps it: the REST contract's fields, with times as dates. */
export type TrainingRun = Omit<TrainingRunDto, 'createdAt' | 'startedAt' | 'finishedAt'> & {
  /** The user the candidate is credited to in the registry: who started the run, or who set the policy that did. */
  authorId: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

/**
 * A worker's hold on a run: the claim's owner and attempt number. Every
 * write of the worker names both, so a worker whose lease ran out (and whose
 * run another worker claimed, as a later attempt) or whose run was cancelled
 * writes nothing.
 */
export interface RunLease {
  runId: string;
  owner: string;
  attempt: number;
}

/** What a run learned so far; the worker writes each part when its phase ends. */
export type RunFindings = Partial<Pick<TrainingRun, 'progress' | 'dataset' | 'features' | 'challenger' | 'champion'>>;

/** How a run ended, as its worker writes it. */
export type RunOutcome =
  | { state: 'succeeded'; candidateVersion: number | null; decision: TrainingRun['decision']; rolloutId: string | null }
  | { state: 'failed'; error: string };

/** A run as it is queued. */
export type NewTrainingRun = Pick<TrainingRun, 'id' | 'projectId' | 'modelName' | 'trigger' | 'startedBy' | 'authorId' | 'backbone' | 'recipe'>;
