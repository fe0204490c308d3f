import { modelNameSchema, modelStatsFromWire } from '@loupe/device-state';
import { Telemetry } from '@loupe/proto';
import { DomainError } from '@loupe/service';
import type { DeviceTopic } from '@loupe/topics';
import { z } from 'zod';
import type { DeviceReport } from '../devices/device.service';

/** A telemetry payload the cloud will not record, and why. */
export class InvalidTelemetryError extends DomainError {
  readonly kind = 'invalid';
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTelemetryError';
  }
}

const telemetrySchema = z.object({
  device: z.object({ siteId: z.string(), deviceId: z.string() }).optional(),
  agentVersion: z.string().min(1, 'agent_version is required').max(64),
  model: z.object({ name: modelNameSchema, version: z.string().min(1).max(64) }).optional(),
  provider: z.string().max(32),
});

/**
 * Decodes and checks one Telemetry message (proto/loupe/v1/telemetry.proto).
 * The topic is the authority on who sent it: a payload naming another device
 * is refused rather than trusted.
 */
export function readTelemetry(topic: DeviceTopic, payload: Buffer): DeviceReport {
  let decoded: Telemetry;
  try {
    decoded = Telemetry.decode(payload);
  } catch (error) {
    throw new InvalidTelemetryError(`not a loupe.v1.Telemetry message: ${(error as Error).message}`);
  }
  const parsed = telemetrySchema.safeParse(decoded);
  const stats = decoded.modelStats ? modelStatsFromWire(decoded.modelStats) : undefined;
  const issues = [...(parsed.error?.issues.map((issue) => issue.message) ?? []), ...(stats && 'issues' in stats ? stats.issues : [])];
  if (!parsed.success || issues.length > 0) throw new InvalidTelemetryError(issues.join('; '));
  const { device, agentVersion, model, provider } = parsed.data;
  const modelStats = stats && 'stats' in stats ? stats.stats : undefined;
  if (device && (device.siteId !== topic.siteId || device.deviceId !== topic.deviceId)) {
    throw new InvalidTelemetryError(
      `payload names device ${device.siteId}/${device.deviceId} but was published on ${topic.siteId}/${topic.deviceId}`,
    );
  }
  return {
    siteId: topic.siteId,
    deviceId: topic.deviceId,
    agentVersion,
    model: model ? { name: model.name, version: model.version } : null,
    provider: provider === '' ? null : provider,
    modelStats: modelStats
      ? {
          modelName: modelStats.model.name,
          modelVersion: modelStats.model.version,
          inspections: modelStats.inspections,
          errors: modelStats.errors,
          rejects: modelStats.rejects,
          uncertain: modelStats.uncertain,
          confidenceHistogram: modelStats.confidenceHistogram,
          p99Ms: modelStats.p99Ms,
          shadowVersion: modelStats.shadowModel?.version || null,
          shadowCompared: modelStats.shadowCompared ?? 0,
          shadowDisagreed: modelStats.shadowDisagreed ?? 0,
        }
      : null,
  };
}
