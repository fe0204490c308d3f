import type { TrainingRunState } from '@loupe/api-contracts';

/** The project's newest training run, however it started, as the triggers see it. */
export interface LatestRun {
  state: TrainingRunState;
  createdAt: Date;
  /** Labels in the dataset version it froze; null until (or if it never) froze one. */
  datasetLabels: number | null;
}

export interface TriggerSnapshot {
  everyNewLabels: number | null;
  everyHours: number | null;
  /** Settled labels of the project now. */
  settledLabels: number;
  latestRun: LatestRun | undefined;
  /** The last run the triggers started, and the settled labels then. */
  triggered: { at: Date; labels: number } | null;
  now: Date;
}

export type DueTrigger = 'new-labels' | 'schedule';

/**
 * Whether the project's triggers start a run now, and which. Never while a
 * run is queued or running: it will take the labels settled so far, and
 * the next check after it counts from its dataset. New labels count from the
 * larger of the newest run's dataset and what the triggers saw when they
 * last started one, so a run that failed before freezing its dataset is not
 * started again on the same labels at every check.
 *
 * "Labels changed" is a change in the count of settled labels: cheap to
 * read at every check, and what settling a sample or reviewing one changes.
 */
export function dueTrigger(snapshot: TriggerSnapshot): DueTrigger | undefined {
  const { latestRun, triggered } = snapshot;
  if (latestRun && (latestRun.state === 'queued' || latestRun.state === 'running')) return undefined;
  const counted = Math.max(latestRun?.datasetLabels ?? 0, triggered?.labels ?? 0);
  const newLabels = snapshot.settledLabels - counted;
  if (snapshot.everyNewLabels !== null && newLabels >= snapshot.everyNewLabels) return 'new-labels';
  if (snapshot.everyHours === null || snapshot.settledLabels === counted) return undefined;
  const last = Math.max(latestRun?.createdAt.getTime() ?? -Infinity, triggered?.at.getTime() ?? -Infinity);
  return snapshot.now.getTime() - last >= snapshot.everyHours * 3_600_000 ? 'schedule' : undefined;
}
