import type { CohortStatsDto, RolloutDetailDto, RolloutDto } from '@loupe/api-contracts';

// A rollout as the cloud describes it, for the tests of this folder.

export const ROLLOUT_ID = '0b7e4c8a-9d2f-4c1e-8a3b-5f6d7e8c9a0b';

export const exampleRollout: RolloutDto = {
  id: ROLLOUT_ID,
  modelName: 'pcb-aoi',
  fromVersion: 3,
  toVersion: 4,
  fleetGroup: 'line-3',
  plan: {
    stages: [
      { name: 'canary', devices: ['plant-7/aoi-01'], bakeSeconds: 600 },
      { name: 'half', devices: [], percent: 50, bakeSeconds: 1_800 },
      { name: 'all', devices: [], percent: 100, bakeSeconds: 0 },
    ],
    maxUpdating: 50,
    updateTimeoutSeconds: 900,
    gates: {
      minInspections: 200,
      dataTimeoutSeconds: 600,
      maxErrorRateIncrease: 0.01,
      maxP99Ratio: 1.5,
      maxConfidenceShift: 0.2,
      maxRejectRateIncrease: 0.05,
      maxUncertainRateRatio: 1.5,
      shadow: false,
      maxShadowDisagreement: 0.05,
    },
  },
  state: 'running',
  stage: 1,
  bakeStartedAt: null,
  reason: '',
  createdBy: '8d4a7c1e-3f7e-4f55-9b1a-3c2f0e1d2a4b',
  createdAt: '2026-11-22T12:00:00.000Z',
  updatedAt: '2026-11-22T12:30:00.000Z',
};

export const cohort = (overrides: Partial<CohortStatsDto>): CohortStatsDto => ({
  devices: 1,
  inspections: 1_000,
  errors: 2,
  rejects: 50,
  uncertain: 20,
  confidenceHistogram: [0, 0, 0, 0, 0, 10, 40, 150, 300, 500],
  p99Ms: 12,
  shadowCompared: 0,
  shadowDisagreed: 0,
  ...overrides,
});

const device = (deviceId: string, stage: number, state: RolloutDetailDto['devices'][number]['state']) => ({
  siteId: 'plant-7',
  deviceId,
  stage,
  state,
  detail: '',
  updatedAt: '2026-11-22T12:20:00.000Z',
});

export const exampleDetail: RolloutDetailDto = {
  ...exampleRollout,
  devices: [device('aoi-01', 0, 'active'), device('aoi-02', 1, 'active'), device('aoi-03', 1, 'updating'), device('aoi-04', 2, 'pending')],
  cohorts: { candidate: cohort({ devices: 2 }), baseline: cohort({ devices: 4, inspections: 4_000, errors: 4 }), baselineFrom: 'fleet-group' },
  gates: {
    verdict: 'pass',
    checks: [
      { gate: 'errors', candidate: 0.002, baseline: 0.001, measured: 0.001, limit: 0.01, passed: true },
      { gate: 'p99-latency', candidate: 12, baseline: 10, measured: 1.2, limit: 1.5, passed: true },
      { gate: 'confidence-shift', candidate: 0.87, baseline: 0.85, measured: 0.04, limit: 0.2, passed: true },
      { gate: 'reject-rate', candidate: 0.05, baseline: 0.0125, measured: 0.0375, limit: 0.05, passed: true },
      { gate: 'uncertain-rate', candidate: 0.02, baseline: 0.005, measured: 3.2, limit: 1.5, passed: false },
    ],
  },
  events: [
    { at: '2026-11-22T12:00:00.000Z', actor: exampleRollout.createdBy, action: 'started', detail: { fromVersion: 3, toVersion: 4, devices: 4 } },
    { at: '2026-11-22T12:20:00.000Z', actor: 'controller', action: 'gate-passed', detail: { stage: 0, checks: [] } },
  ],
};
