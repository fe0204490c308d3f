import { createHash } from 'node:crypto';
import { SampleUpload, SelectionReason, selectionReasonToJSON } from '@loupe/proto';
import type { DeviceTopic } from '@loupe/topics';
import { z } from 'zod';

/** Why a sample payload was refused; the dead-letter table and its metric use these. */
export type SampleRejection = 'malformed' | 'too_large' | 'invalid' | 'wrong_device';

/** A sample payload the cloud will not store, and why. */
export class InvalidSampleError extends Error {
  constructor(
    readonly reason: SampleRejection,
    detail: string,
    /** Set when the payload could be read far enough to name its sample. */
    readonly sampleId?: string,
  ) {
    super(detail);
    this.name = 'InvalidSampleError';
  }
}

/** A checked sample, ready to be stored. */
export interface SampleRecord {
  id: string;
  siteId: string;
  deviceId: string;
  stationId: string;
  unitSerial: string;
  capturedAt: Date;
  modelName: string;
  modelVersion: string;
  verdict: string;
  prediction: { scores: { label: string; score: number }[]; boxes: unknown[]; anomalyScore?: number };
  priority: number;
  reason: string;
  image: Buffer;
  imageSha256: string;
  imageMediaType: string;
}

export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/bmp', 'image/tiff'] as const;

const sampleSchema = z.object({
  sampleId: z.uuid({ message: 'sample_id must be a UUID' }),
  stationId: z.string().min(1, 'station_id is required').max(128),
  unitSerial: z.string().max(128),
  capturedAt: z.date({ message: 'captured_at is required' }),
  model: z.object({ name: z.string().min(1, 'model.name is required').max(128), version: z.string().min(1, 'model.version is required').max(64) }, { message: 'model is required' }),
  prediction: z.object(
    {
      verdict: z.string().min(1, 'prediction.verdict is required').max(128),
      scores: z.array(z.object({ label: z.string().max(128), score: z.number().finite() })).max(1_000),
      boxes: z.array(z.unknown()).max(1_000),
      anomalyScore: z.number().finite().optional(),
    },
    { message: 'prediction is required' },
  ),
  image: z.instanceof(Uint8Array).refine((image) => image.byteLength > 0, 'image is empty'),
  imageMediaType: z.enum(IMAGE_MEDIA_TYPES, { message: `image_media_type must be one of ${IMAGE_MEDIA_TYPES.join(', ')}` }),
  priority: z.number().min(0, 'priority must be within 0..1').max(1, 'priority must be within 0..1'),
  reason: z.enum(SelectionReason).refine((reason) => reason !== SelectionReason.SELECTION_REASON_UNSPECIFIED && reason !== SelectionReason.UNRECOGNIZED, 'reason is required'),
});

/**
 * Decodes and checks one SampleUpload (proto/loupe/v1/samples.proto). The
 * topic is the authority on who sent it; a payload larger than `maxBytes`
 * is refused before it is decoded.
 */
export function readSampleUpload(topic: DeviceTopic, payload: Buffer, maxBytes: number): SampleRecord {
  if (payload.byteLength > maxBytes) {
    throw new InvalidSampleError('too_large', `payload is ${payload.byteLength} bytes; the limit is ${maxBytes} (SAMPLE_MAX_BYTES)`, peekSampleId(payload));
  }
  let decoded: SampleUpload;
  try {
    decoded = SampleUpload.decode(payload);
  } catch (error) {
    throw new InvalidSampleError('malformed', `not a loupe.v1.SampleUpload message: ${(error as Error).message}`);
  }
  const parsed = sampleSchema.safeParse(decoded);
  if (!parsed.success) {
    const sampleId = z.uuid().safeParse(decoded.sampleId).success ? decoded.sampleId : undefined;
    throw new InvalidSampleError('invalid', parsed.error.issues.map((issue) => issue.message).join('; '), sampleId);
  }
  const sample = parsed.data;
  const { device } = decoded;
  if (device && (device.siteId !== topic.siteId || device.deviceId !== topic.deviceId)) {
    throw new InvalidSampleError(
      'wrong_device',
      `payload names device ${device.siteId}/${device.deviceId} but was published on ${topic.siteId}/${topic.deviceId}`,
      sample.sampleId,
    );
  }
  // A view of the payload's bytes, not a copy: the payload lives as long as the sample.
  const image = Buffer.from(sample.image.buffer, sample.image.byteOffset, sample.image.byteLength);
  return {
    id: sample.sampleId,
    siteId: topic.siteId,
    deviceId: topic.deviceId,
    stationId: sample.stationId,
    unitSerial: sample.unitSerial,
    capturedAt: sample.capturedAt,
    modelName: sample.model.name,
    modelVersion: sample.model.version,
    verdict: sample.prediction.verdict,
    prediction: {
      scores: sample.prediction.scores,
      boxes: sample.prediction.boxes,
      ...(sample.prediction.anomalyScore === undefined ? {} : { anomalyScore: sample.prediction.anomalyScore }),
    },
    priority: sample.priority,
    reason: selectionReasonToJSON(sample.reason).replace('SELECTION_REASON_', '').toLowerCase(),
    image,
    imageSha256: createHash('sha256').update(image).digest('hex'),
    imageMediaType: sample.imageMediaType,
  };
}

// sample_id is field 1, a string: when a payload leads with it, an oversize
// sample can still be refused by name so the device stops resending it.
function peekSampleId(payload: Buffer): string | undefined {
  if (payload[0] !== 0x0a || payload[1] === undefined || payload[1] > 64) return undefined;
  const candidate = payload.subarray(2, 2 + payload[1]).toString('utf8');
  return z.uuid().safeParse(candidate).success ? candidate : undefined;
}
