import { modelNameSchema, modelStatsFromWire } from '@loupe/device-state';
import { Telemetry, type ModelStats as WireModelStats } from '@loupe/proto';
import { DomainError } from '@loupe/service';
import type { DeviceTopic } from '@loupe/topics';
import { z } from 'zod';
import { readDeviceMessage, type DeviceMessageKind } from '../devices/device-message';
import type { DeviceReport } from '../devices/device.service';

/** A telemetry payload the cloud will not record, and why. */
export class InvalidTelemetryError extends DomainError {
  readonly kind = 'invalid';
}

const telemetrySchema = z.object({
  device: z.object({ siteId: z.string(), deviceId: z.string() }).optional(),
  agentVersion: z.string().min(1, 'agent_version is required').max(64),
  model: z.object({ name: modelNameSchema, version: z.string().min(1).max(64) }).optional(),
  provider: z.string().max(32),
  // The device-state library owns what valid statistics are, and reads a previous release's shadow fields.
  modelStats: z
    .custom<WireModelStats>()
    .optional()
    .transform((wire, context) => {
      if (!wire) return undefined;
      const read = modelStatsFromWire(wire);
      if ('stats' in read) return read.stats;
      for (const message of read.issues) context.addIssue({ code: 'custom', message });
      return z.NEVER;
    }),
});

const telemetry: DeviceMessageKind<Telemetry, z.output<typeof telemetrySchema>> = {
  messageName: 'loupe.v1.Telemetry',
  decode: (payload) => Telemetry.decode(payload),
  schema: telemetrySchema,
  refusal: (_fault, detail) => new InvalidTelemetryError(detail),
};

/**
 * Decodes and checks one Telemetry message (proto/loupe/v1/telemetry.proto).
 * The topic is the authority on who sent it: a payload naming another device
 * is refused rather than trusted.
 */
export function readTelemetry(topic: DeviceTopic, payload: Buffer): DeviceReport {
  const { agentVersion, model, provider, modelStats } = readDeviceMessage(telemetry, topic, payload);
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
