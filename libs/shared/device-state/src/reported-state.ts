import { ReportedState } from '@loupe/proto';
import { z } from 'zod';
import { modelNameSchema, type ModelVersion } from './model-version';
import { updateStatusFromWire, updateStatusToWire, type UpdateStatus } from './update-status';

/** The longest error a report carries; people need the first lines anyway. */
export const MAX_REPORTED_ERROR_LENGTH = 2_000;

/** What a box says about its model state (ReportedState), on every change and every reconnect. */
export interface ReportedModelState {
  /** Absent when the message names no device; the topic says who sent it. */
  device?: { siteId: string; deviceId: string };
  reportedAt: Date;
  /** The generation of the desired state this report answers. */
  generation: number;
  active?: ModelVersion;
  staged?: ModelVersion;
  previous?: ModelVersion;
  status: UpdateStatus;
  /** Why the last update failed, for people. */
  error: string;
  provider: string;
  /** SHA-256 of the model actually serving, measured on the box; empty when none serves. */
  runningSha256: string;
  rolloutId: string;
  /** Times the agent process restarted while this model was on probation. */
  crashes: number;
}

/** A ReportedState the cloud will not record, and why. */
export class InvalidReportedStateError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidReportedStateError';
  }
}

const optionalSha256 = (what: string) => z.string().regex(/^([0-9a-f]{64})?$/, `${what} must be 64 lowercase hex digits`);

// A report names models as the box holds them; the hash may be empty for a
// model whose file the box never measured.
const reportedModel = z.object({
  name: modelNameSchema,
  version: z.string().min(1, 'model version is required').max(64),
  sha256: optionalSha256('sha256'),
});

/** What a valid ReportedState holds, as decoded from the wire; the cloud's device-message reader checks with it too. */
export const reportedStateSchema = z.object({
  device: z.object({ siteId: z.string(), deviceId: z.string() }).optional(),
  reportedAt: z.date({ message: 'reported_at is required' }),
  generation: z.number().int().min(0),
  active: reportedModel.optional(),
  staged: reportedModel.optional(),
  previous: reportedModel.optional(),
  // UNSPECIFIED, and values a newer release may add, say nothing this cloud can record.
  status: z.number().transform((wire, context) => {
    const status = updateStatusFromWire(wire);
    if (status === undefined) context.addIssue({ code: 'custom', message: 'status is required' });
    return status ?? z.NEVER;
  }),
  error: z.string().max(MAX_REPORTED_ERROR_LENGTH),
  provider: z.string().max(32),
  runningSha256: optionalSha256('running_sha256'),
  rolloutId: z.string().max(64),
  crashes: z.number().int().min(0),
});

/** Decodes and checks one ReportedState; throws InvalidReportedStateError naming every bad field. */
export function decodeReportedState(payload: Uint8Array): ReportedModelState {
  let decoded: ReportedState;
  try {
    decoded = ReportedState.decode(payload);
  } catch (error) {
    throw new InvalidReportedStateError(`not a loupe.v1.ReportedState message: ${(error as Error).message}`);
  }
  const parsed = reportedStateSchema.safeParse(decoded);
  if (!parsed.success) throw new InvalidReportedStateError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const { active, staged, previous, device, ...rest } = parsed.data;
  return { ...rest, ...(device ? { device } : {}), ...(active ? { active } : {}), ...(staged ? { staged } : {}), ...(previous ? { previous } : {}) };
}

/** The ReportedState message for `state`; an overlong error is cut, as the cloud would refuse it. */
export function reportedStateToWire(state: ReportedModelState): ReportedState {
  const models = { active: state.active, staged: state.staged, previous: state.previous };
  return ReportedState.fromPartial({
    ...(state.device ? { device: state.device } : {}),
    reportedAt: state.reportedAt,
    generation: state.generation,
    ...Object.fromEntries(
      Object.entries(models)
        .filter((entry): entry is [string, ModelVersion] => entry[1] !== undefined)
        .map(([key, { name, version, sha256 }]) => [key, { name, version, sha256 }]),
    ),
    status: updateStatusToWire(state.status),
    error: state.error.slice(0, MAX_REPORTED_ERROR_LENGTH),
    provider: state.provider,
    runningSha256: state.runningSha256,
    rolloutId: state.rolloutId,
    crashes: state.crashes,
  });
}
