import { randomUUID } from 'node:crypto';
import { SampleUpload, SelectionReason } from '@loupe/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAPTURE_CLOCK_SKEW_MS, InvalidSampleError, readSampleUpload } from './sample-payload';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const LIMITS = { maxBytes: 64 * 1024, maxAgeMs: 30 * 24 * 3_600_000 };
const TOPIC = { siteId: 'plant-7', deviceId: 'aoi-01', channel: 'samples' as const };
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

function upload(overrides: Partial<SampleUpload> = {}): SampleUpload {
  return SampleUpload.fromPartial({
    sampleId: randomUUID(),
    device: { siteId: 'plant-7', deviceId: 'aoi-01' },
    stationId: 'line-3-aoi',
    unitSerial: 'SN-1',
    capturedAt: new Date(NOW - 1_000),
    model: { name: 'pcb-aoi', version: '1', sha256: 'ab' },
    prediction: { verdict: 'reject', scores: [{ label: 'Defective', score: 0.55 }], boxes: [{ label: 'scratch', score: 0.5, x: 1, y: 2, width: 3, height: 4 }] },
    image: JPEG,
    imageMediaType: 'image/jpeg',
    priority: 0.9,
    reason: SelectionReason.SELECTION_REASON_MARGIN,
    attempt: 1,
    ...overrides,
  });
}

function refusal(sent: SampleUpload): InvalidSampleError {
  try {
    readSampleUpload(TOPIC, Buffer.from(SampleUpload.encode(sent).finish()), LIMITS, NOW);
  } catch (error) {
    if (error instanceof InvalidSampleError) return error;
    throw error;
  }
  throw new Error('accepted');
}

/** Every text field of a SampleUpload that ends up in a row, and how to put a value into it. */
const TEXT_FIELDS: Record<string, (sent: SampleUpload, value: string) => void> = {
  station_id: (sent, value) => (sent.stationId = value),
  unit_serial: (sent, value) => (sent.unitSerial = value),
  'model.name': (sent, value) => (sent.model!.name = value),
  'model.version': (sent, value) => (sent.model!.version = value),
  'prediction.verdict': (sent, value) => (sent.prediction!.verdict = value),
  'prediction.scores.label': (sent, value) => (sent.prediction!.scores[0]!.label = value),
  'prediction.boxes.label': (sent, value) => (sent.prediction!.boxes[0]!.label = value),
};

describe('readSampleUpload', () => {
  it('reads a valid upload', () => {
    const sent = upload();
    const sample = readSampleUpload(TOPIC, Buffer.from(SampleUpload.encode(sent).finish()), LIMITS, NOW);
    expect(sample).toMatchObject({ id: sent.sampleId, siteId: 'plant-7', unitSerial: 'SN-1', reason: 'margin', imageMediaType: 'image/jpeg' });
  });

  it.each([
    [SelectionReason.SELECTION_REASON_LEAST_CONFIDENCE, 'least_confidence'],
    [SelectionReason.SELECTION_REASON_ENTROPY, 'entropy'],
    [SelectionReason.SELECTION_REASON_DETECTION_NEAR_THRESHOLD, 'detection_near_threshold'],
    // The sampler's fair random share: training runs may evaluate on these as an unbiased sample.
    [SelectionReason.SELECTION_REASON_RANDOM_CALIBRATION, 'random_calibration'],
  ])('keeps selection reason %i as %s, the name the sampler gave it', (reason, name) => {
    const sample = readSampleUpload(TOPIC, Buffer.from(SampleUpload.encode(upload({ reason })).finish()), LIMITS, NOW);
    expect(sample.reason).toBe(name);
  });

  it('refuses a control character in any text field as invalid, by id, naming the field and where', () => {
    const control = fc.integer({ min: 0, max: 0x9f }).filter((code) => code < 0x20 || code >= 0x7f);
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(TEXT_FIELDS)), fc.string({ maxLength: 20 }), control, (field, text, code) => {
        const sent = upload();
        TEXT_FIELDS[field]!(sent, `${text}${String.fromCharCode(code)}x`);
        const refused = refusal(sent);
        expect(refused).toMatchObject({ reason: 'invalid', sampleId: sent.sampleId });
        expect(refused.message).toContain(`${field} has a control character`);
      }),
    );
  });

  it('refuses a capture time older than SAMPLE_MAX_AGE or further ahead than the clock skew allows, and takes one just inside', () => {
    expect(refusal(upload({ capturedAt: new Date(NOW - LIMITS.maxAgeMs - 1) })).message).toMatch(/more than 720 hours old \(SAMPLE_MAX_AGE\)/);
    expect(refusal(upload({ capturedAt: new Date(NOW + CAPTURE_CLOCK_SKEW_MS + 1) })).message).toMatch(/ahead of the cloud's clock/);
    expect(refusal(upload({ capturedAt: new Date(0) })).reason).toBe('invalid');
    for (const at of [NOW - LIMITS.maxAgeMs, NOW + CAPTURE_CLOCK_SKEW_MS]) {
      expect(readSampleUpload(TOPIC, Buffer.from(SampleUpload.encode(upload({ capturedAt: new Date(at) })).finish()), LIMITS, NOW).capturedAt.getTime()).toBe(at);
    }
  });

  it("refuses a media type the image's first bytes do not bear out", () => {
    expect(refusal(upload({ imageMediaType: 'image/png' })).message).toMatch(/image_media_type is image\/png but the image starts with ff d8 ff e0 \(image\/jpeg\)/);
    expect(refusal(upload({ image: Buffer.from('<html>') })).reason).toBe('invalid');
    expect(refusal(upload({ imageMediaType: 'text/html' })).message).toMatch(/image_media_type must be one of/);
  });

  it('refuses non-finite box and score numbers', () => {
    const sent = upload();
    sent.prediction!.boxes[0]!.x = Number.NaN;
    expect(refusal(sent).message).toMatch(/prediction.boxes.x must be a finite number/);
  });

  it('answers any bytes at all with a sample or an InvalidSampleError, never another error', () => {
    const whole = Buffer.from(SampleUpload.encode(upload()).finish());
    const mutated = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.nat({ max: whole.length }).map((cut) => whole.subarray(0, cut)),
      fc.tuple(fc.nat({ max: whole.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => {
        const copy = Buffer.from(whole);
        copy[at]! ^= flip;
        return copy;
      }),
    );
    fc.assert(
      fc.property(mutated, (payload) => {
        try {
          readSampleUpload(TOPIC, payload, LIMITS, NOW);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidSampleError);
        }
      }),
    );
  });
});
