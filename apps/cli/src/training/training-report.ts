import { TRAINING_PHASE_NAMES, type EvaluationDto, type TrainingRunDto } from '@loupe/api-contracts';

type Champion = NonNullable<TrainingRunDto['champion']>;

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** Whether a run can still change on its own: the watch goes on while it can. */
export const isActive = (run: Pick<TrainingRunDto, 'state'>): boolean => run.state === 'queued' || run.state === 'running';

/** The one progress line of `--watch`: "training run 7e2f…: features (2/5) 30 of 120, 25%". */
export function progressLine(run: TrainingRunDto): string {
  const head = `training run ${run.id}`;
  if (run.progress === null) return `${head}: ${run.state}, waiting for a worker`;
  const { phase, done, total } = run.progress;
  const share = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
  return `${head}: ${phase} (${TRAINING_PHASE_NAMES.indexOf(phase) + 1}/${TRAINING_PHASE_NAMES.length}) ${done} of ${total}, ${share}%`;
}

/** One line per run, for `loupe train list`. */
export function runLine(run: TrainingRunDto): string {
  const labels = run.dataset === null ? '-' : String(run.dataset.labels);
  const scores = run.challenger === null ? 'accuracy -, macro-F1 -' : `accuracy ${percent(run.challenger.accuracy)}, macro-F1 ${percent(run.challenger.macroF1)}`;
  const candidate = run.candidateVersion === null ? '' : `, candidate v${run.candidateVersion}${run.decision ? ` ${run.decision}` : ''}`;
  return `${run.id}  ${run.createdAt}  ${run.state.padEnd(9)}  ${labels.padStart(6)} labels, ${scores}${candidate}`;
}

/** A run in full for the terminal: where it stands, its data, the candidate beside the champion, and both confusion matrices. */
export function formatRun(run: TrainingRunDto): string {
  const lines = [
    `training run ${run.id}: ${run.modelName}, ${run.state}${run.error ? ` (${run.error})` : ''}`,
    `  started by ${run.startedBy} (${run.trigger}) at ${run.createdAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}, attempt ${run.attempts}`,
    `  backbone ${run.backbone.model} v${run.backbone.version}`,
  ];
  if (run.dataset) lines.push(`  dataset ${run.dataset.hash.slice(0, 12)}: ${run.dataset.labels} labels (${run.dataset.train} train, ${run.dataset.val} val, ${run.dataset.test} test)`);
  if (run.features) lines.push(`  features: ${run.features.computed} computed, ${run.features.cached} from the cache`);
  if (isActive(run)) lines.push(`  ${progressLine(run)}`);
  if (run.candidateVersion !== null) lines.push(`  candidate v${run.candidateVersion}: ${run.decision ?? 'undecided'}${run.rolloutId ? `, rollout ${run.rolloutId}` : ''}`);
  if (run.challenger) lines.push('', ...comparison(run.challenger, run.champion), '', ...confusion(run.challenger, 'candidate'));
  if (run.champion) lines.push('', ...confusion(run.champion, `champion v${run.champion.version}`));
  return `${lines.join('\n')}\n`;
}

function comparison(challenger: EvaluationDto, champion: Champion | null): string[] {
  const column = (text: string) => text.padStart(14);
  const row = (name: string, value: (evaluation: EvaluationDto) => string) => `  ${name.padEnd(24)}${column(value(challenger))}${column(champion ? value(champion) : '-')}`;
  const perClass = challenger.perClass.map((metrics) => {
    const before = champion?.perClass.find((other) => other.className === metrics.className);
    const pair = (precision: number, recall: number) => `${percent(precision)}/${percent(recall)}`;
    return `  ${`${metrics.className} (${metrics.support})`.padEnd(24)}${column(pair(metrics.precision, metrics.recall))}${column(before ? pair(before.precision, before.recall) : '-')}`;
  });
  return [
    `  ${`on ${challenger.samples} test samples`.padEnd(24)}${column('candidate')}${column(champion ? `champion v${champion.version}` : 'no champion')}`,
    row('accuracy', (evaluation) => percent(evaluation.accuracy)),
    row('macro-F1', (evaluation) => percent(evaluation.macroF1)),
    row('calibration error', (evaluation) => evaluation.calibrationError.toFixed(3)),
    '  precision/recall per class',
    ...perClass,
  ];
}

function confusion(evaluation: EvaluationDto, whose: string): string[] {
  const width = Math.max(8, ...evaluation.classes.map((name) => name.length + 1));
  const first = Math.max(20, width + 2);
  const header = `  ${'actual \\ predicted'.padEnd(first)}${evaluation.classes.map((name) => name.padStart(width)).join('')}`;
  const rows = evaluation.classes.map(
    (name, row) => `  ${name.padEnd(first)}${evaluation.classes.map((_, column) => String(evaluation.confusion[row]?.[column] ?? 0).padStart(width)).join('')}`,
  );
  return [`confusion matrix of the ${whose}`, header, ...rows];
}
