import { decodeReportedState, InvalidReportedStateError, updateStatusName, type ModelVersion, type UpdateStatusName } from '@loupe/device-state';
import type { DeviceTopic } from '@loupe/topics';

/** A device's ReportedState as the cloud keeps it (device_model_states.reported) and serves it to the fleet page. */
export interface ReportedStateRecord {
  generation: number;
  reportedAt: string;
  status: UpdateStatusName;
  active: ModelVersion | null;
  staged: ModelVersion | null;
  previous: ModelVersion | null;
  error: string;
  provider: string;
  runningSha256: string;
  rolloutId: string;
  crashes: number;
}

/**
 * Decodes and checks one ReportedState (proto/loupe/v1/state.proto). The
 * topic is the authority on who sent it.
 */
export function readReportedState(topic: DeviceTopic, payload: Buffer): ReportedStateRecord {
  const report = decodeReportedState(payload);
  if (report.device && (report.device.siteId !== topic.siteId || report.device.deviceId !== topic.deviceId)) {
    throw new InvalidReportedStateError(`payload names device ${report.device.siteId}/${report.device.deviceId} but was published on ${topic.siteId}/${topic.deviceId}`);
  }
  return {
    generation: report.generation,
    reportedAt: report.reportedAt.toISOString(),
    status: updateStatusName(report.status),
    active: report.active ?? null,
    staged: report.staged ?? null,
    previous: report.previous ?? null,
    error: report.error,
    provider: report.provider,
    runningSha256: report.runningSha256,
    rolloutId: report.rolloutId,
    crashes: report.crashes,
  };
}
