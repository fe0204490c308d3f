import { Telemetry } from '@loupe/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readDeviceMessage, type DeviceMessageFault, type DeviceMessageKind } from './device-message';

class Refused extends Error {
  constructor(
    readonly fault: DeviceMessageFault,
    detail: string,
    readonly decodedVersion: string | undefined,
  ) {
    super(detail);
  }
}

const schema = z.object({ agentVersion: z.string().min(1, 'agent_version is required') });
const kind: DeviceMessageKind<Telemetry, z.output<typeof schema>> = {
  messageName: 'loupe.v1.Telemetry',
  decode: (payload) => Telemetry.decode(payload),
  schema,
  refusal: (fault, detail, decoded) => new Refused(fault, detail, decoded?.agentVersion),
};
const topic = { siteId: 'plant-7', deviceId: 'aoi-03' };
const encode = (message: Parameters<typeof Telemetry.fromPartial>[0]) => Buffer.from(Telemetry.encode(Telemetry.fromPartial(message)).finish());

function refusalOf(read: () => unknown): { fault: DeviceMessageFault; detail: string; decodedVersion: string | undefined } | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return { fault: error.fault, detail: error.message, decodedVersion: error.decodedVersion };
  }
}

describe('readDeviceMessage', () => {
  it('returns what the schema parsed from a message of the device its topic names', () => {
    expect(readDeviceMessage(kind, topic, encode({ device: topic, agentVersion: '1.0' }))).toEqual({ agentVersion: '1.0' });
    expect(readDeviceMessage(kind, topic, encode({ agentVersion: '1.0' }))).toEqual({ agentVersion: '1.0' });
  });

  it('refuses undecodable bytes, a schema violation, a failed check and another device, in that order', () => {
    expect(refusalOf(() => readDeviceMessage(kind, topic, Buffer.from([0xff, 0xff, 0xff])))).toMatchObject({ fault: 'malformed', decodedVersion: undefined });
    expect(refusalOf(() => readDeviceMessage(kind, topic, Buffer.from([0xff, 0xff, 0xff])))?.detail).toMatch(/^not a loupe\.v1\.Telemetry message: /);
    expect(refusalOf(() => readDeviceMessage(kind, topic, encode({ device: { siteId: 'x', deviceId: 'y' } })))).toEqual({
      fault: 'invalid',
      detail: 'agent_version is required',
      decodedVersion: '',
    });
    const tooOld = () => 'too old';
    expect(refusalOf(() => readDeviceMessage(kind, topic, encode({ device: { siteId: 'x', deviceId: 'y' }, agentVersion: '1.0' }), tooOld))).toEqual({
      fault: 'invalid',
      detail: 'too old',
      decodedVersion: '1.0',
    });
    expect(refusalOf(() => readDeviceMessage(kind, topic, encode({ device: { siteId: 'plant-7', deviceId: 'aoi-04' }, agentVersion: '1.0' })))).toEqual({
      fault: 'wrong_device',
      detail: 'payload names device plant-7/aoi-04 but was published on plant-7/aoi-03',
      decodedVersion: '1.0',
    });
  });

  it('refuses a named device exactly when it differs from the topic', () => {
    const id = fc.constantFrom('plant-7', 'aoi-03', 'aoi-04', '');
    fc.assert(
      fc.property(id, id, (siteId, deviceId) => {
        const refusal = refusalOf(() => readDeviceMessage(kind, topic, encode({ device: { siteId, deviceId }, agentVersion: '1.0' })));
        const same = siteId === topic.siteId && deviceId === topic.deviceId;
        expect(refusal?.fault).toBe(same ? undefined : 'wrong_device');
      }),
    );
  });
});
