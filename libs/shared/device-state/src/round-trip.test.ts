import { DesiredState, ModelStats, ReportedState } from '@loupe/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DesiredModel } from './desired-state';
import { desiredStateToWire, parseDesiredState } from './desired-state.wire';
import { CONFIDENCE_BINS, modelStatsFromWire, modelStatsToWire, type ModelStatistics } from './model-stats';
import { sameModel, type ModelVersion } from './model-version';
import { decodeReportedState, reportedStateToWire, type ReportedModelState } from './reported-state';
import { UPDATE_STATUSES } from './update-status';

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const modelVersion: fc.Arbitrary<ModelVersion> = fc.record({
  name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  version: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/),
  sha256: hex(64),
});

const packageRef = fc.record({
  url: fc.webUrl({ validSchemes: ['http', 'https'] }),
  size: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  sha256: hex(64),
});

const desiredModel: fc.Arbitrary<DesiredModel> = fc
  .record(
    {
      generation: count,
      model: modelVersion,
      package: packageRef,
      signature: fc.record({ keyId: hex(16), value: fc.uint8Array({ minLength: 1, maxLength: 96 }).map((bytes) => Buffer.from(bytes).toString('base64')) }),
      rolloutId: fc.string(),
      shadow: fc.record({ model: modelVersion, package: packageRef }),
    },
    { requiredKeys: ['generation', 'model', 'package', 'rolloutId'] },
  )
  .filter((desired) => !desired.shadow || !sameModel(desired.shadow.model, desired.model));

const reportedState: fc.Arbitrary<ReportedModelState> = fc.record(
  {
    device: fc.record({ siteId: fc.string(), deviceId: fc.string() }),
    reportedAt: fc.date({ min: new Date(0), max: new Date('2100-01-01'), noInvalidDate: true }),
    generation: count,
    active: modelVersion,
    staged: modelVersion,
    previous: modelVersion,
    status: fc.constantFrom(...UPDATE_STATUSES),
    error: fc.string({ maxLength: 2_000 }),
    provider: fc.string({ maxLength: 32 }),
    runningSha256: fc.oneof(fc.constant(''), hex(64)),
    rolloutId: fc.string({ maxLength: 64 }),
    crashes: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  },
  { requiredKeys: ['reportedAt', 'generation', 'status', 'error', 'provider', 'runningSha256', 'rolloutId', 'crashes'] },
);

const modelStatistics: fc.Arbitrary<ModelStatistics> = fc
  .tuple(
    fc.record({
      model: modelVersion,
      inspections: count,
      errors: count,
      rejects: count,
      uncertain: count,
      confidenceHistogram: fc.array(count, { minLength: CONFIDENCE_BINS, maxLength: CONFIDENCE_BINS }),
      p99Ms: fc.double({ min: 0, max: 1e9, noNaN: true }),
    }),
    fc.option(fc.record({ shadowModel: modelVersion, shadowCompared: count, shadowDisagreed: count }), { nil: undefined }),
  )
  .map(([stats, shadow]) => ({ ...stats, ...shadow }));

describe('domain -> wire -> domain', () => {
  it('gives back every valid desired state', () => {
    fc.assert(
      fc.property(desiredModel, (desired) => {
        expect(parseDesiredState(DesiredState.decode(DesiredState.encode(desiredStateToWire(desired)).finish()))).toEqual(desired);
      }),
    );
  });

  it('gives back every valid reported state', () => {
    fc.assert(
      fc.property(reportedState, (reported) => {
        expect(decodeReportedState(ReportedState.encode(reportedStateToWire(reported)).finish())).toEqual(reported);
      }),
    );
  });

  it('gives back every valid set of model statistics', () => {
    fc.assert(
      fc.property(modelStatistics, (stats) => {
        expect(modelStatsFromWire(ModelStats.decode(ModelStats.encode(modelStatsToWire(stats)).finish()))).toEqual({ stats });
      }),
    );
  });
});
