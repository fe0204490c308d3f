import { createHash } from 'node:crypto';
import { mediaTypeMismatch, printableText } from '@loupe/api-contracts';
import { SampleUpload, SelectionReason, selectionReasonToJSON } from '@loupe/proto';
import { DomainError } from '@loupe/service';
import type { DeviceTopic } from '@loupe/topics';
import { z } from 'zod';
import { readDeviceMessage, type DeviceMessageKind } from '../fleet/devices/device-message';

/**
 * Why a sample payload was refused; the dead-letter table and its metric use
 * these. `invalid_topic`: published under a site or device id that is not
 * one; `id_conflict`: its id is stored for another device or another image;
 * `unstorable`: it failed to store for a reason the cloud could not place,
 * again and again.
 */
export type SampleRejection = 'malformed' | 'too_large' | 'invalid' | 'wrong_device' | 'id_conflict' | 'invalid_topic' | 'unstorable';

/** A sample payload the cloud will not store, and why. */
export class InvalidSampleError extends DomainError {
  readonly kind = 'invalid';
  constructor(
    override readonly reason: SampleRejection,
    detail: string,
    /** Set when the payload could be read far enough to name its sample. */
    readonly sampleId?: string,
  ) {
    super(detail);
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
  prediction: { scores: { label: string; score: number }[]; boxes: Box[]; anomalyScore?: number };
  priority: number;
  reason: string;
  image: Buffer;
  imageSha256: string;
  imageMediaType: string;
}

export interface SampleLimits {
  /** SAMPLE_MAX_BYTES: larger payloads are refused before they are decoded. */
  maxBytes: number;
  /** SAMPLE_MAX_AGE: a capture time further back than this is refused. */
  maxAgeMs: number;
}

/**
 * How far ahead of the cloud's clock a capture time may be. Device clocks
 * drift by seconds under NTP; minutes ahead means a clock that is wrong, and
 * a sample dated in the future would sort before every real one.
 */
export const CAPTURE_CLOCK_SKEW_MS = 5 * 60_000;

export const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/bmp', 'image/tiff'] as const;

// zod 4 numbers refuse NaN and the infinities, which JSON cannot hold.
const finite = (field: string) => z.number({ message: `${field} must be a finite number` });
const box = z.object({
  label: printableText('prediction.boxes.label', 128),
  score: finite('prediction.boxes.score'),
  x: finite('prediction.boxes.x'),
  y: finite('prediction.boxes.y'),
  width: finite('prediction.boxes.width'),
  height: finite('prediction.boxes.height'),
});
type Box = z.output<typeof box>;

// Every text field is printable: Postgres refuses NUL in text and in JSON,
// and one NUL in a group's INSERT would otherwise fail the rows beside it.
const sampleSchema = z
  .object({
    sampleId: z.uuid({ message: 'sample_id must be a UUID' }),
    stationId: printableText('station_id', 128).min(1, 'station_id is required'),
    unitSerial: printableText('unit_serial', 128),
    capturedAt: z.date({ message: 'captured_at is required' }),
    model: z.object(
      { name: printableText('model.name', 128).min(1, 'model.name is required'), version: printableText('model.version', 64).min(1, 'model.version is required') },
      { message: 'model is required' },
    ),
    prediction: z.object(
      {
        verdict: printableText('prediction.verdict', 128).min(1, 'prediction.verdict is required'),
        scores: z.array(z.object({ label: printableText('prediction.scores.label', 128), score: finite('prediction.scores.score') })).max(1_000),
        boxes: z.array(box).max(1_000),
        anomalyScore: finite('prediction.anomaly_score').optional(),
      },
      { message: 'prediction is required' },
    ),
    image: z.instanceof(Uint8Array).refine((image) => image.byteLength > 0, 'image is empty'),
    imageMediaType: z.enum(IMAGE_MEDIA_TYPES, { message: `image_media_type must be one of ${IMAGE_MEDIA_TYPES.join(', ')}` }),
    priority: z.number().min(0, 'priority must be within 0..1').max(1, 'priority must be within 0..1'),
    reason: z.enum(SelectionReason).refine((reason) => reason !== SelectionReason.SELECTION_REASON_UNSPECIFIED && reason !== SelectionReason.UNRECOGNIZED, 'reason is required'),
  })
  .superRefine((sample, context) => {
    if (sample.image.byteLength === 0) return;
    const mismatch = mediaTypeMismatch(sample.image, sample.imageMediaType);
    if (mismatch) context.addIssue({ code: 'custom', path: ['imageMediaType'], message: mismatch });
  });

const sampleUpload: DeviceMessageKind<SampleUpload, z.output<typeof sampleSchema>> = {
  messageName: 'loupe.v1.SampleUpload',
  decode: (payload) => SampleUpload.decode(payload),
  schema: sampleSchema,
  // A refusal names the sample when the payload got far enough to say which, so its device can be told.
  refusal: (fault, detail, decoded) =>
    new InvalidSampleError(fault, detail, decoded && z.uuid().safeParse(decoded.sampleId).success ? decoded.sampleId : undefined),
};

/**
 * Decodes and checks one SampleUpload (proto/loupe/v1/samples.proto). The
 * topic is the authority on who sent it; a payload larger than
 * `limits.maxBytes` is refused before it is decoded; `now` is the cloud's
 * clock, which the capture time must not be far from.
 */
export function readSampleUpload(topic: DeviceTopic, payload: Buffer, limits: SampleLimits, now: number): SampleRecord {
  if (payload.byteLength > limits.maxBytes) {
    throw new InvalidSampleError('too_large', `payload is ${payload.byteLength} bytes; the limit is ${limits.maxBytes} (SAMPLE_MAX_BYTES)`, peekSampleId(payload));
  }
  const sample = readDeviceMessage(sampleUpload, topic, payload, (parsed) => captureTimeProblem(parsed.capturedAt, now, limits.maxAgeMs));
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

/** Why a capture time is not believable, or undefined when it is. */
export function captureTimeProblem(capturedAt: Date, now: number, maxAgeMs: number): string | undefined {
  const at = capturedAt.getTime();
  if (Number.isNaN(at)) return 'captured_at is not a valid time';
  if (at > now + CAPTURE_CLOCK_SKEW_MS) {
    return `captured_at ${capturedAt.toISOString()} is more than ${CAPTURE_CLOCK_SKEW_MS / 60_000} minutes ahead of the cloud's clock: check the device's clock (NTP)`;
  }
  if (at < now - maxAgeMs) {
    return `captured_at ${capturedAt.toISOString()} is more than ${Math.round(maxAgeMs / 3_600_000)} hours old (SAMPLE_MAX_AGE): check the device's clock, or raise SAMPLE_MAX_AGE to take older samples`;
  }
  return undefined;
}

// sample_id is field 1, a string: when a payload leads with it, an oversize
// sample can still be refused by name so the device stops resending it.
function peekSampleId(payload: Buffer): string | undefined {
  if (payload[0] !== 0x0a || payload[1] === undefined || payload[1] > 64) return undefined;
  const candidate = payload.subarray(2, 2 + payload[1]).toString('utf8');
  return z.uuid().safeParse(candidate).success ? candidate : undefined;
}
