import { describe, expect, it } from 'vitest';
import { DeviceAcl, deviceGrants, deviceUsername, parseDeviceUsername, type BrokerPrincipal } from './device-acl';
import { DEVICE_CHANNELS, DeviceTopics } from './device-topics';

const topics = new DeviceTopics('test/run-1/loupe/v1');
const acl = new DeviceAcl(topics);
const aoi1: BrokerPrincipal = { kind: 'device', siteId: 'plant-7', deviceId: 'aoi-01' };
const service: BrokerPrincipal = { kind: 'service' };
const root = topics.root;

describe('DeviceAcl for a device', () => {
  it('lets a device publish to its own samples, telemetry and reported, and subscribe to its own desired and acks, nothing more', () => {
    const allowed = DEVICE_CHANNELS.flatMap((channel) =>
      (['publish', 'subscribe'] as const)
        .filter((action) => acl.allows(aoi1, action, topics.forDevice('plant-7', 'aoi-01', channel)))
        .map((action) => `${action} ${channel}`),
    );
    expect(allowed).toEqual(['publish samples', 'publish telemetry', 'publish reported', 'subscribe desired', 'subscribe acks']);
  });

  it("refuses every channel of another device, on the same site or another", () => {
    for (const [siteId, deviceId] of [['plant-7', 'aoi-02'], ['plant-8', 'aoi-01']] as const) {
      for (const channel of DEVICE_CHANNELS) {
        const topic = topics.forDevice(siteId, deviceId, channel);
        expect([acl.allows(aoi1, 'publish', topic), acl.allows(aoi1, 'subscribe', topic)]).toEqual([false, false]);
      }
    }
  });

  it('refuses wildcard and shared filters, even those that match only its own topics', () => {
    for (const filter of [
      `${root}/#`,
      `${root}/+/+/desired`,
      `${root}/plant-7/+/desired`,
      `${root}/plant-7/aoi-01/+`,
      `${root}/plant-7/aoi-01/#`,
      '#',
      `$share/loupe-cloud/${root}/+/+/samples`,
      `$share/g/${root}/plant-7/aoi-01/desired`,
    ]) {
      expect({ filter, allowed: acl.allows(aoi1, 'subscribe', filter) }).toEqual({ filter, allowed: false });
    }
  });

  it('refuses topics outside the root and system topics', () => {
    for (const topic of ['loupe/v1/plant-7/aoi-01/samples', '$SYS/broker/clients', `${root}/plant-7/aoi-01/samples/extra`, `${root}/plant-7/aoi-01`]) {
      expect([acl.allows(aoi1, 'publish', topic), acl.allows(aoi1, 'subscribe', topic)]).toEqual([false, false]);
    }
  });
});

describe('DeviceAcl for the cloud', () => {
  it('allows everything under the root, shared subscriptions included', () => {
    expect(acl.allows(service, 'subscribe', `${root}/#`)).toBe(true);
    expect(acl.allows(service, 'subscribe', `$share/loupe-cloud/${root}/+/+/samples`)).toBe(true);
    expect(acl.allows(service, 'publish', topics.forDevice('plant-7', 'aoi-01', 'desired'))).toBe(true);
  });

  it('refuses what lies outside the root, wildcard publishes and malformed share groups', () => {
    for (const [action, topic] of [
      ['subscribe', '#'],
      ['subscribe', '+/run-1/loupe/v1/#'],
      ['subscribe', root],
      ['subscribe', '$share/+/test/run-1/loupe/v1/#'],
      ['subscribe', '$share//test/run-1/loupe/v1/#'],
      ['publish', `${root}/+/aoi-01/desired`],
      ['publish', '$SYS/broker/uptime'],
      ['publish', 'other/topic'],
    ] as const) {
      expect({ action, topic, allowed: acl.allows(service, action, topic) }).toEqual({ action, topic, allowed: false });
    }
  });
});

describe('device user names', () => {
  it('round-trips site and device, and refuses anything that is not one device', () => {
    expect(parseDeviceUsername(deviceUsername('plant-7', 'aoi-01'))).toEqual({ siteId: 'plant-7', deviceId: 'aoi-01' });
    for (const name of ['loupe-cloud', 'a/b/c', 'plant-7/', '/aoi', 'plant 7/aoi', 'p/+']) expect(parseDeviceUsername(name)).toBeUndefined();
  });

  it("grants exactly one topic per channel under the device's own levels", () => {
    expect(deviceGrants(topics, 's', 'd')).toEqual({
      publish: [`${root}/s/d/samples`, `${root}/s/d/telemetry`, `${root}/s/d/reported`],
      subscribe: [`${root}/s/d/desired`, `${root}/s/d/acks`],
    });
  });
});
