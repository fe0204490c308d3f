import { describe, expect, it } from 'vitest';
import { InspectServiceService, SampleAck, SampleUpload, SelectionReason, Telemetry } from './index';

describe('MQTT payloads', () => {
  // Scores are float32 on the wire; the values here are exact in float32.
  it('round-trips a SampleUpload with its image bytes and capture time', () => {
    const sample = SampleUpload.fromPartial({
      sampleId: '6f1c1a8e-2d7b-4c55-9f0e-3c1d2b4a5e6f',
      device: { siteId: 'plant-7', deviceId: 'aoi-03' },
      capturedAt: new Date('2026-11-22T10:00:00.123Z'),
      image: Buffer.from([0xff, 0xd8, 0xff]),
      imageMediaType: 'image/jpeg',
      priority: 0.75,
      reason: SelectionReason.SELECTION_REASON_MARGIN,
      prediction: { verdict: 'reject', scores: [{ label: 'Defective', score: 0.5 }] },
    });
    const decoded = SampleUpload.decode(SampleUpload.encode(sample).finish());
    expect(decoded).toEqual(sample);
  });

  it('decodes a message from a newer sender that has fields it does not know', () => {
    const withUnknownField = Buffer.concat([
      Buffer.from(Telemetry.encode(Telemetry.fromPartial({ agentVersion: '9.0.0' })).finish()),
      Buffer.from([0xf8, 0x06, 0x01]), // field 111, varint 1
    ]);
    expect(Telemetry.decode(withUnknownField).agentVersion).toBe('9.0.0');
  });

  it('keeps the sample ids of an ack in order', () => {
    const ack = SampleAck.fromPartial({ sampleIds: ['a', 'b', 'c'] });
    expect(SampleAck.decode(SampleAck.encode(ack).finish()).sampleIds).toEqual(['a', 'b', 'c']);
  });
});

describe('gRPC services', () => {
  it('defines Inspect as unary and InspectStream as bidirectional', () => {
    expect(InspectServiceService.inspect.path).toBe('/loupe.v1.InspectService/Inspect');
    expect(InspectServiceService.inspect.requestStream).toBe(false);
    expect(InspectServiceService.inspectStream.requestStream).toBe(true);
    expect(InspectServiceService.inspectStream.responseStream).toBe(true);
  });
});
