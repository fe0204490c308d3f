import { DesiredState, ModelStats, ModelUpdateStatus } from '@loupe/proto';
import { describe, expect, it } from 'vitest';
import type { DesiredModel } from './desired-state';
import { desiredStateToWire, parseDesiredState } from './desired-state.wire';
import { modelStatsFromWire } from './model-stats';
import { decodeReportedState } from './reported-state';
import { decodeOldDesiredState, encodeOldDesiredState, encodeOldModelStats, encodeOldReportedState, type OldDesiredState } from './testing/previous-release-wire';

const V2 = { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) };
const V3 = { name: 'pcb-aoi', version: '3', sha256: 'd'.repeat(64) };

const oldDesired: OldDesiredState = {
  generation: 7,
  model: V2,
  packageUrl: 'https://cloud.example/api/fleet/packages/pcb-aoi/2',
  packageSize: 3_145_728,
  packageSha256: 'c'.repeat(64),
  signature: new Uint8Array([1, 2, 3]),
  signingKeyId: '0123456789abcdef',
  rolloutId: 'r-1',
  shadowModel: V3,
  shadowPackageUrl: 'https://cloud.example/api/fleet/packages/pcb-aoi/3',
  shadowPackageSize: 2_048,
  shadowPackageSha256: 'e'.repeat(64),
};

const desired: DesiredModel = {
  generation: 7,
  model: V2,
  package: { url: oldDesired.packageUrl, size: oldDesired.packageSize, sha256: oldDesired.packageSha256 },
  signature: { keyId: '0123456789abcdef', value: 'AQID' },
  rolloutId: 'r-1',
  shadow: { model: V3, package: { url: oldDesired.shadowPackageUrl, size: 2_048, sha256: 'e'.repeat(64) } },
};

describe('a box on the previous release and the new cloud', () => {
  it('the old box reads the new cloud’s desired state as the old cloud wrote it', () => {
    const bytes = DesiredState.encode(desiredStateToWire(desired)).finish();
    expect(decodeOldDesiredState(bytes)).toEqual(oldDesired);
  });

  it('the old box reads a desired state without a shadow with every shadow field at its default', () => {
    const { shadow: _, ...unshadowed } = desired;
    const old = decodeOldDesiredState(DesiredState.encode(desiredStateToWire(unshadowed)).finish());
    expect(old.shadowModel).toBeUndefined();
    expect(old).toMatchObject({ shadowPackageUrl: '', shadowPackageSize: 0, shadowPackageSha256: '' });
  });

  it('the new box reads a desired state retained by the previous release’s cloud the same', () => {
    const decoded = DesiredState.decode(encodeOldDesiredState(oldDesired));
    expect(parseDesiredState(decoded)).toEqual(desired);
  });

  it('the new cloud reads the old box’s model stats, shadow counts included', () => {
    const old = { model: V2, inspections: 500, errors: 1, rejects: 20, uncertain: 9, confidenceHistogram: [0, 0, 0, 0, 0, 10, 40, 100, 150, 200], p99Ms: 12.5 };
    const read = modelStatsFromWire(ModelStats.decode(encodeOldModelStats({ ...old, shadowModel: V3, shadowCompared: 480, shadowDisagreed: 12 })));
    expect(read).toEqual({ stats: { ...old, shadowModel: V3, shadowCompared: 480, shadowDisagreed: 12 } });
  });

  it('the new cloud reads the old box’s model stats without a shadow as no shadow', () => {
    const old = { model: V2, inspections: 5, errors: 0, rejects: 0, uncertain: 0, confidenceHistogram: new Array<number>(10).fill(0), p99Ms: 3 };
    const read = modelStatsFromWire(ModelStats.decode(encodeOldModelStats({ ...old, shadowCompared: 0, shadowDisagreed: 0 })));
    expect(read).toEqual({ stats: old });
  });

  it('the new cloud reads the old box’s reported state', () => {
    const bytes = encodeOldReportedState({
      device: { siteId: 'plant-7', deviceId: 'aoi-03' },
      reportedAtSeconds: 1_765_000_000,
      generation: 7,
      active: V2,
      status: ModelUpdateStatus.MODEL_UPDATE_STATUS_ROLLED_BACK,
      error: 'probation failed',
      provider: 'cpu',
      runningSha256: V2.sha256,
      rolloutId: 'r-1',
      crashes: 2,
    });
    expect(decodeReportedState(bytes)).toEqual({
      device: { siteId: 'plant-7', deviceId: 'aoi-03' },
      reportedAt: new Date(1_765_000_000_000),
      generation: 7,
      active: V2,
      status: 'rolled-back',
      error: 'probation failed',
      provider: 'cpu',
      runningSha256: V2.sha256,
      rolloutId: 'r-1',
      crashes: 2,
    });
  });
});
