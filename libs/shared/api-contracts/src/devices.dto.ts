import { z } from 'zod';

const modelRefSchema = z.object({ name: z.string(), version: z.string(), sha256: z.string() });

/** The counters the device last sent for the model its telemetry names, since that model became active there. */
const deviceStatsSchema = z.object({
  inspections: z.number(),
  errors: z.number(),
  rejects: z.number(),
  uncertain: z.number(),
  confidenceHistogram: z.array(z.number()),
  p99Ms: z.number(),
  shadowVersion: z.string().nullable(),
  shadowCompared: z.number(),
  shadowDisagreed: z.number(),
  updatedAt: z.iso.datetime(),
});

/**
 * One edge device as the cloud knows it (`GET /api/fleet/devices`): a device
 * that enrolled, or sent telemetry, or both. The enrollment fields are null
 * for a device that signs in with configured broker credentials; the
 * telemetry fields are null for an enrolled device not heard from yet.
 */
export const deviceSchema = z.object({
  siteId: z.string(),
  deviceId: z.string(),
  /** The fleet group it enrolled into, which decides the rollouts that reach it; null when not enrolled. */
  fleetGroup: z.string().nullable(),
  revoked: z.boolean(),
  enrolledAt: z.iso.datetime().nullable(),
  agentVersion: z.string().nullable(),
  /** The model the device's telemetry says it runs; null before its first model. */
  model: z.object({ name: z.string(), version: z.string() }).nullable(),
  /** Execution provider in use: tensorrt, cuda or cpu. */
  provider: z.string().nullable(),
  firstSeenAt: z.iso.datetime().nullable(),
  lastSeenAt: z.iso.datetime().nullable(),
  /** What the cloud wants it to run. */
  desired: z.object({ generation: z.number(), model: modelRefSchema, rolloutId: z.string() }).nullable(),
  /** What it last said about its model update (ReportedState). */
  reported: z
    .object({
      generation: z.number(),
      reportedAt: z.string(),
      status: z.string(),
      active: modelRefSchema.nullable(),
      previous: modelRefSchema.nullable(),
      error: z.string(),
      provider: z.string(),
      runningSha256: z.string(),
    })
    .nullable(),
  stats: deviceStatsSchema.nullable(),
});
export type DeviceDto = z.infer<typeof deviceSchema>;

export const deviceListResponseSchema = z.object({ devices: z.array(deviceSchema) });

/** `GET /api/fleet/devices?group=`: one group at most (a repeated parameter is refused, not passed on as a list). */
export const deviceListQuerySchema = z.object({ group: z.string().max(64).optional() });
export type DeviceListResponse = z.infer<typeof deviceListResponseSchema>;
