import { ModelUpdateStatus } from '@loupe/proto';
import { describe, expect, it } from 'vitest';
import { UPDATE_STATUSES, updateStatusFromWire, updateStatusName, updateStatusToWire, type UpdateStatus } from './update-status';

describe('update status', () => {
  it.each<[UpdateStatus, ModelUpdateStatus, string]>([
    ['idle', ModelUpdateStatus.MODEL_UPDATE_STATUS_IDLE, 'IDLE'],
    ['downloading', ModelUpdateStatus.MODEL_UPDATE_STATUS_DOWNLOADING, 'DOWNLOADING'],
    ['verifying', ModelUpdateStatus.MODEL_UPDATE_STATUS_VERIFYING, 'VERIFYING'],
    ['warming-up', ModelUpdateStatus.MODEL_UPDATE_STATUS_WARMING_UP, 'WARMING_UP'],
    ['self-testing', ModelUpdateStatus.MODEL_UPDATE_STATUS_SELF_TESTING, 'SELF_TESTING'],
    ['active', ModelUpdateStatus.MODEL_UPDATE_STATUS_ACTIVE, 'ACTIVE'],
    ['rolled-back', ModelUpdateStatus.MODEL_UPDATE_STATUS_ROLLED_BACK, 'ROLLED_BACK'],
    ['failed', ModelUpdateStatus.MODEL_UPDATE_STATUS_FAILED, 'FAILED'],
  ])('%s is %s on the wire and %s in the cloud’s records', (status, wire, name) => {
    expect(updateStatusToWire(status)).toBe(wire);
    expect(updateStatusFromWire(wire)).toBe(status);
    expect(updateStatusName(status)).toBe(name);
  });

  it('stores each status under the proto enum’s own name', () => {
    for (const status of UPDATE_STATUSES) expect(`MODEL_UPDATE_STATUS_${updateStatusName(status)}`).toBe(ModelUpdateStatus[updateStatusToWire(status)]);
  });

  it.each([ModelUpdateStatus.MODEL_UPDATE_STATUS_UNSPECIFIED, ModelUpdateStatus.UNRECOGNIZED, 42])('knows no status for wire value %s', (wire) => {
    expect(updateStatusFromWire(wire)).toBeUndefined();
  });
});
