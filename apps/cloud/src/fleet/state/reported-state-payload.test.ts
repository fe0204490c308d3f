import { ModelUpdateStatus, ReportedState } from '@loupe/proto';
import { describe, expect, it } from 'vitest';
import { InvalidReportedStateError } from '@loupe/device-state';
import { readReportedState } from './reported-state-payload';

const topic = { siteId: 'plant-7', deviceId: 'aoi-03', channel: 'reported' as const };
const encode = (message: Parameters<typeof ReportedState.fromPartial>[0]) => Buffer.from(ReportedState.encode(ReportedState.fromPartial(message)).finish());
const reportedAt = new Date('2026-03-01T10:00:00Z');

describe('readReportedState', () => {
  it('reads a report into the record the rollouts read, with the status named without its prefix', () => {
    const active = { name: 'pcb-aoi', version: '3', sha256: 'a'.repeat(64) };
    const record = readReportedState(topic, encode({ device: topic, reportedAt, generation: 4, active, status: ModelUpdateStatus.MODEL_UPDATE_STATUS_ROLLED_BACK, crashes: 1 }));
    expect(record).toMatchObject({ generation: 4, reportedAt: reportedAt.toISOString(), status: 'ROLLED_BACK', active, staged: null, crashes: 1 });
  });

  it('names the field of each schema issue, and refuses a report naming another device', () => {
    expect(() => readReportedState(topic, encode({ reportedAt, status: ModelUpdateStatus.MODEL_UPDATE_STATUS_ACTIVE, runningSha256: 'xyz' }))).toThrow(
      new InvalidReportedStateError('runningSha256: running_sha256 must be 64 lowercase hex digits'),
    );
    expect(() => readReportedState(topic, encode({ device: { siteId: 'plant-7', deviceId: 'aoi-04' }, reportedAt, status: ModelUpdateStatus.MODEL_UPDATE_STATUS_ACTIVE }))).toThrow(
      'payload names device plant-7/aoi-04 but was published on plant-7/aoi-03',
    );
    expect(() => readReportedState(topic, Buffer.from([0xff, 0xff]))).toThrow(/^not a loupe\.v1\.ReportedState message: /);
  });
});
