import { InvalidReportedStateError, reportedStateSchema, updateStatusName, type ModelVersion, type UpdateStatusName } from '@loupe/device-state';
import { ReportedState } from '@loupe/proto';
import type { DeviceTopic } from '@loupe/topics';
import type { z } from 'zod';
import { readDeviceMessage, type DeviceMessageKind } from '../devices/device-message';

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

const reportedState: DeviceMessageKind<ReportedState, z.output<typeof reportedStateSchema>> = {
  messageName: 'loupe.v1.ReportedState',
  decode: (payload) => ReportedState.decode(payload),
  schema: reportedStateSchema,
  describeIssue: (issue) => `${issue.path.join('.')}: ${issue.message}`,
  refusal: (_fault, detail) => new InvalidReportedStateError(detail),
};

/**
 * Decodes and checks one ReportedState (proto/loupe/v1/state.proto). The
 * topic is the authority on who sent it.
 */
export function readReportedState(topic: DeviceTopic, payload: Buffer): ReportedStateRecord {
  const report = readDeviceMessage(reportedState, topic, payload);
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
