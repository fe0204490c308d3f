import type { EvaluationDto, TrainingRunDto } from '@loupe/api-contracts';

export const PROJECT_ID = '5d1c2b3a-0000-4000-8000-000000000001';
export const RUN_ID = '7e2f4a1b-0000-4000-8000-000000000002';

const CLASSES = ['normal', 'short', 'open'];

/** An evaluation on a 3-class test split of 30 samples, for tests. */
export const exampleEvaluation: EvaluationDto = {
  samples: 30,
  accuracy: 0.8,
  macroF1: 0.78,
  perClass: [
    { className: 'normal', precision: 0.9, recall: 0.9, support: 10 },
    { className: 'short', precision: 0.75, recall: 0.9, support: 10 },
    { className: 'open', precision: 0.75, recall: 0.6, support: 10 },
  ],
  confusion: [
    [9, 1, 0],
    [0, 9, 1],
    [1, 3, 6],
  ],
  classes: CLASSES,
  calibrationError: 0.041,
};

/** A finished run whose candidate beat v1 and awaits an engineer's approval. */
export const exampleRun: TrainingRunDto = {
  id: RUN_ID,
  projectId: PROJECT_ID,
  modelName: 'pcb-aoi',
  state: 'succeeded',
  trigger: 'manual',
  startedBy: 'Eve',
  progress: { phase: 'packaging', done: 1, total: 1 },
  backbone: { model: 'squeezenet-features', version: 1 },
  recipe: { l2Candidates: [1e-3, 1e-2], classWeighting: true, maxIterations: 300, cropScale: 1.1 },
  dataset: { hash: 'a'.repeat(64), labels: 120, train: 80, val: 10, test: 30 },
  features: { computed: 40, cached: 80 },
  challenger: exampleEvaluation,
  champion: { ...exampleEvaluation, version: 1, accuracy: 0.7, macroF1: 0.66 },
  candidateVersion: 2,
  decision: 'awaiting-approval',
  rolloutId: null,
  error: null,
  attempts: 1,
  createdAt: '2026-12-07T10:00:00.000Z',
  startedAt: '2026-12-07T10:00:01.000Z',
  finishedAt: '2026-12-07T10:00:31.000Z',
};

/** The same project's run while it extracts features. */
export const runningRun: TrainingRunDto = {
  ...exampleRun,
  id: '7e2f4a1b-0000-4000-8000-000000000003',
  state: 'running',
  progress: { phase: 'features', done: 30, total: 120 },
  features: null,
  challenger: null,
  champion: null,
  candidateVersion: null,
  decision: null,
  finishedAt: null,
};
