import { TRAINING_PHASE_NAMES, type TrainingRunDto, type TrainingRunState } from '@loupe/api-contracts';

type Progress = NonNullable<TrainingRunDto['progress']>;
type Decision = NonNullable<TrainingRunDto['decision']>;

// A record, so a new state in the contract fails to compile here until someone decides.
const ACTIVE: Record<TrainingRunState, boolean> = { queued: true, running: true, succeeded: false, failed: false, cancelled: false };

/** Whether a run can still change on its own, so the screen keeps asking. */
export const isActive = (state: TrainingRunState): boolean => ACTIVE[state];

const PHASE_TITLE: Record<Progress['phase'], string> = {
  dataset: 'Freezing the dataset',
  features: 'Extracting features',
  training: 'Training the head',
  evaluation: 'Evaluating',
  packaging: 'Packaging and registering',
};

/** The share of the current phase that is done, 0 to 1; 0 when the phase has not counted anything yet. */
export function phaseShare(progress: Progress): number {
  if (!(progress.total > 0)) return 0;
  return Math.min(1, Math.max(0, progress.done / progress.total));
}

/** "Extracting features (step 2 of 5): 30 of 120" */
export function progressText(progress: Progress): string {
  const step = TRAINING_PHASE_NAMES.indexOf(progress.phase) + 1;
  return `${PHASE_TITLE[progress.phase]} (step ${step} of ${TRAINING_PHASE_NAMES.length}): ${progress.done} of ${progress.total}`;
}

const DECISION_TEXT: Record<Decision, string> = {
  lost: 'lost to the champion; kept in the registry, never rolled out',
  'awaiting-approval': 'awaits an engineer’s approval',
  approved: 'approved; its rollout started',
  'rollout-started': 'beat the champion; the policy started its rollout',
  rejected: 'rejected by an engineer',
  'first-model': 'first model of the project; awaits approval',
};

export const decisionText = (decision: Decision): string => DECISION_TEXT[decision];

/** Whether an engineer can approve or reject the run's candidate now. */
export const awaitsDecision = (run: Pick<TrainingRunDto, 'decision'>): boolean => run.decision === 'awaiting-approval' || run.decision === 'first-model';

/** A metric from 0 to 1 as a percentage with one decimal; a dash when there is none. */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return `${(value * 100).toFixed(1)}%`;
}

/** The challenger's lead over the champion in percentage points, signed: "+4.0 pts". */
export function pointsAhead(challenger: number, champion: number): string {
  const points = (challenger - champion) * 100;
  const rounded = Math.abs(points) < 0.05 ? 0 : points;
  return `${rounded > 0 ? '+' : rounded < 0 ? '−' : '±'}${Math.abs(rounded).toFixed(1)} pts`;
}

/** How long a run took or has taken: "42 s", "3 min 5 s"; a dash before it started. */
export function runDuration(run: Pick<TrainingRunDto, 'startedAt' | 'finishedAt'>, now: Date): string {
  if (run.startedAt === null) return '-';
  const end = run.finishedAt === null ? now.getTime() : Date.parse(run.finishedAt);
  const seconds = Math.max(0, Math.round((end - Date.parse(run.startedAt)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${seconds % 60} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "120 labels (80 train, 10 val, 30 test)" */
export function datasetText(dataset: TrainingRunDto['dataset']): string {
  if (dataset === null) return 'not frozen yet';
  return `${dataset.labels} labels (${dataset.train} train, ${dataset.val} val, ${dataset.test} test)`;
}

/** The runs newest first, each with its number in the project (the first run is 1), so people can name them. */
export function numberedRuns<Run extends Pick<TrainingRunDto, 'id' | 'createdAt'>>(runs: readonly Run[]): { run: Run; number: number }[] {
  const oldestFirst = [...runs].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  return oldestFirst.map((run, index) => ({ run, number: index + 1 })).reverse();
}
