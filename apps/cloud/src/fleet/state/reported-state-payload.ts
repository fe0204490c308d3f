import { ModelUpdateStatus, modelUpdateStatusToJSON, ReportedState } from '@loupe/proto';
import { DomainError } from '@loupe/service';
import type { DeviceTopic } from '@loupe/topics';
import { z } from 'zod';

/** A ReportedState payload the cloud will not record, and why. */
export class InvalidReportedStateError extends DomainError {
  readonly kind = 'invalid';
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidReportedStateError';
  }
}

const modelRef = z.object({
  name: z.string().min(1, 'model name is required').max(128),
  version: z.string().min(1, 'model version is required').max(64),
  sha256: z.string().regex(/^([0-9a-f]{64})?$/, 'sha256 must be 64 lowercase hex digits'),
});

const reportedSchema = z.object({
  device: z.object({ siteId: z.string(), deviceId: z.string() }).optional(),
  reportedAt: z.date({ message: 'reported_at is required' }),
  generation: z.number().int().min(0),
  active: modelRef.optional(),
  staged: modelRef.optional(),
  previous: modelRef.optional(),
  status: z.enum(ModelUpdateStatus).refine((status) => status !== ModelUpdateStatus.MODEL_UPDATE_STATUS_UNSPECIFIED && status !== ModelUpdateStatus.UNRECOGNIZED, 'status is required'),
  error: z.string().max(2_000),
  provider: z.string().max(32),
  runningSha256: z.string().regex(/^([0-9a-f]{64})?$/, 'running_sha256 must be 64 lowercase hex digits'),
  rolloutId: z.string().max(64),
  crashes: z.number().int().min(0),
});

export type ModelRefRecord = z.infer<typeof modelRef>;

/** A device's ReportedState as the cloud keeps it (device_model_states.reported). */
export interface ReportedStateRecord {
  generation: number;
  reportedAt: string;
  /** `ACTIVE`, `FAILED`, `ROLLED_BACK`, ... : the enum name without its prefix. */
  status: string;
  active: ModelRefRecord | null;
  staged: ModelRefRecord | null;
  previous: ModelRefRecord | null;
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
  let decoded: ReportedState;
  try {
    decoded = ReportedState.decode(payload);
  } catch (error) {
    throw new InvalidReportedStateError(`not a loupe.v1.ReportedState message: ${(error as Error).message}`);
  }
  const parsed = reportedSchema.safeParse(decoded);
  if (!parsed.success) throw new InvalidReportedStateError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const report = parsed.data;
  if (report.device && (report.device.siteId !== topic.siteId || report.device.deviceId !== topic.deviceId)) {
    throw new InvalidReportedStateError(`payload names device ${report.device.siteId}/${report.device.deviceId} but was published on ${topic.siteId}/${topic.deviceId}`);
  }
  return {
    generation: report.generation,
    reportedAt: report.reportedAt.toISOString(),
    status: modelUpdateStatusToJSON(report.status).replace(/^MODEL_UPDATE_STATUS_/, ''),
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
