import { ModelUpdateStatus, ReportedState } from '@loupe/proto';
import { describe, expect, it } from 'vitest';
import { decodeReportedState, InvalidReportedStateError, reportedStateToWire } from './reported-state';

const V2 = { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) };
const valid = {
  device: { siteId: 'plant-7', deviceId: 'aoi-03' },
  reportedAt: new Date('2026-01-02T03:04:05Z'),
  generation: 4,
  active: V2,
  status: ModelUpdateStatus.MODEL_UPDATE_STATUS_ACTIVE,
  runningSha256: V2.sha256,
};
const encode = (overrides: Partial<ReportedState>) => ReportedState.encode(ReportedState.fromPartial({ ...valid, ...overrides })).finish();

describe('reported state on the wire', () => {
  it('reads a valid report', () => {
    expect(decodeReportedState(encode({}))).toEqual({ ...valid, status: 'active', error: '', provider: '', rolloutId: '', crashes: 0 });
  });

  it('cuts an overlong error rather than have the cloud refuse the report', () => {
    const wire = reportedStateToWire({ ...valid, status: 'failed', error: 'x'.repeat(5_000), provider: 'cpu', rolloutId: '', crashes: 0 });
    expect(wire.error).toHaveLength(2_000);
  });

  it.each([
    ['bytes that are not a ReportedState', Buffer.from([0xff, 0xff, 0xff]), 'not a loupe.v1.ReportedState message'],
    ['no status', encode({ status: ModelUpdateStatus.MODEL_UPDATE_STATUS_UNSPECIFIED }), 'status: status is required'],
    ['a status this release does not know', encode({ status: 42 as ModelUpdateStatus }), 'status: status is required'],
    ['no time', encode({ reportedAt: undefined }), 'reported_at is required'],
    ['a model name the registry would refuse', encode({ active: { ...V2, name: 'Not/A/Name' } }), 'active.name: must be a model name'],
    ['a running hash that is not SHA-256', encode({ runningSha256: 'abc' }), 'running_sha256 must be 64 lowercase hex digits'],
  ])('refuses %s', (_why, payload, message) => {
    expect(() => decodeReportedState(payload)).toThrow(InvalidReportedStateError);
    expect(() => decodeReportedState(payload)).toThrow(message);
  });
});
