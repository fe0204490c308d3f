import { randomUUID } from 'node:crypto';
import { describeWhere, eventually, missingFiles, startTestDatabase, uniqueName, type TestDatabase } from '@loupe/testing';
import { DEVICE_CHANNELS, deviceUsername, DeviceTopics, type DeviceChannel } from '@loupe/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SystemClock } from '../src/clock';
import { openDatabase, type Database } from '../src/database/database';
import { DeviceCredentials } from '../src/fleet/identity/device-credentials';
import { DeviceIdentityRepository, type DeviceRef } from '../src/fleet/identity/device-identity.repository';
import { EnrollmentService } from '../src/fleet/identity/enrollment.service';
import { IdentityMetrics } from '../src/fleet/identity/identity-metrics';
import { composeMosquittoBroker, embeddedBroker, MOSQUITTO, MOSQUITTO_WITH_PLUGIN, mosquittoBroker, type BrokerUnderTest, type IdentityServices } from './brokers-under-test';

/**
 * The ACL matrix of issue 7: every (device, other device's topic, action)
 * pair on 3 devices of 2 sites, plus wildcard and shared subscriptions, a
 * borrowed client id, a borrowed user name, an anonymous connect and revoked
 * devices, against the embedded broker, a real Mosquitto on the generated
 * files, and a real Mosquitto on the compose stack's configuration with
 * device accounts in its dynamic-security plugin. Assertions are on what actually arrives: a
 * privileged observer sees every publish that got through, and each device
 * records every message delivered to it.
 */

// The rule under test, written out independently of DeviceAcl.
const PUBLISHES: readonly DeviceChannel[] = ['samples', 'telemetry', 'reported'];
const SUBSCRIBES: readonly DeviceChannel[] = ['desired', 'acks'];

// Time for a message that was let through by mistake to arrive, after every allowed one has.
const STRAY_WINDOW_MS = 300;

interface Enrolled extends DeviceRef {
  username: string;
  password: string;
}

const name = (device: DeviceRef) => deviceUsername(device.siteId, device.deviceId);
const settle = <T>(promise: Promise<T>) => promise.then(() => 'ok' as const, () => 'refused' as const);
/** Subscribes, or gives up when the connection closes: a taken-over session never answers. */
const subscribe = (client: MqttClient, filter: string) =>
  client.connected
    ? settle(Promise.race([client.subscribeAsync(filter, { qos: 1 }), new Promise((_, reject) => client.once('close', reject))]))
    : Promise.resolve('refused' as const);

// Mosquitto's legs need Debian's mosquitto package: CI has it (.ci/run); a
// machine with only Node and npm runs the embedded broker's leg, and the
// run's output names the others as not run.
const legs: { broker: string; start: (services: IdentityServices) => Promise<BrokerUnderTest>; missing: string | undefined }[] = [
  { broker: 'the embedded broker (Aedes, credentials in Postgres)', start: embeddedBroker, missing: undefined },
  { broker: 'Mosquitto on the files loupe fleet mosquitto-config generates', start: mosquittoBroker, missing: missingFiles('the mosquitto binary', [MOSQUITTO]) },
  {
    broker: "Mosquitto on the compose stack's configuration, accounts kept in its dynamic-security plugin, devices over TLS",
    start: composeMosquittoBroker,
    missing: missingFiles("mosquitto with its dynamic-security plugin and mosquitto_ctrl", MOSQUITTO_WITH_PLUGIN),
  },
];

for (const { broker: brokerName, start, missing } of legs) describeWhere(missing, `device ACLs on ${brokerName}`, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let services: { topics: DeviceTopics; enrollment: EnrollmentService };
  let broker: BrokerUnderTest;
  let observer: MqttClient;
  const observed: string[] = [];
  const open: MqttClient[] = [];

  const sites = [uniqueName('s1'), uniqueName('s2')];
  let devices: Enrolled[];
  let special: Record<'wildAll' | 'wildDesired' | 'wildSite' | 'shared' | 'borrower' | 'doomed' | 'revoked', Enrolled>;

  async function enroll(siteId: string, deviceId: string): Promise<Enrolled> {
    const { token } = await services.enrollment.createToken({ siteId, deviceId, fleetGroup: 'default', ttlSeconds: 600 }, randomUUID());
    return services.enrollment.enroll(token);
  }

  /** A connection that records what is delivered to it; rejects when the broker refuses it. */
  async function connect(url: string, options: { clientId: string; username?: string; password?: string }) {
    const tls = url.startsWith('mqtts:') && broker.deviceCa ? { ca: broker.deviceCa } : {};
    const client = await mqtt.connectAsync(url, { ...options, ...tls, protocolVersion: broker.protocolVersion, reconnectPeriod: 0, connectTimeout: 5_000 });
    client.on('error', () => undefined);
    open.push(client);
    const received: string[] = [];
    client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    return { client, received };
  }

  const asDevice = (device: Enrolled, clientId = device.username) =>
    connect(broker.deviceUrl, { clientId, username: device.username, password: device.password });

  /** `{owner} {channel}` for a topic of a device; the test only ever uses device topics. */
  const describeTopic = (topic: string) => {
    const parsed = services.topics.parse(topic)!;
    return `${name(parsed)}/${parsed.channel}`;
  };

  beforeAll(async () => {
    testDatabase = await startTestDatabase();
    database = await openDatabase({ url: testDatabase.url, poolSize: 4, migrate: true }, pino({ level: 'silent' }));
    const repository = new DeviceIdentityRepository(database.db);
    const credentials = new DeviceCredentials(repository);
    const topics = new DeviceTopics(`test/${uniqueName('acl')}/loupe/v1`);
    broker = await start({ topics, repository, credentials });
    services = { topics, enrollment: new EnrollmentService(repository, credentials, new SystemClock(), new IdentityMetrics(new Registry()), broker.accounts) };
    devices = await Promise.all([enroll(sites[0]!, 'd1'), enroll(sites[0]!, 'd2'), enroll(sites[1]!, 'd1')]);
    const extras = ['wild-all', 'wild-desired', 'wild-site', 'shared', 'borrower', 'doomed', 'revoked'];
    const [wildAll, wildDesired, wildSite, shared, borrower, doomed, revoked] = await Promise.all(extras.map((id) => enroll(sites[1]!, id)));
    special = { wildAll: wildAll!, wildDesired: wildDesired!, wildSite: wildSite!, shared: shared!, borrower: borrower!, doomed: doomed!, revoked: revoked! };
    await services.enrollment.revoke(special.revoked);
    await broker.applyEnrollments();
    observer = (await connect(broker.serviceUrl, { clientId: uniqueName('observer'), ...broker.service })).client;
    observer.on('message', (topic, payload) => {
      const text = payload.toString();
      if (text.startsWith('device ')) observed.push(`${text.slice('device '.length)} -> ${describeTopic(topic)}`);
    });
    await observer.subscribeAsync(`${services.topics.root}/#`, { qos: 1 });
  });

  afterAll(async () => {
    await Promise.all(open.map((client) => client.endAsync(true)));
    await broker?.stop();
    await database?.close();
    await testDatabase?.stop();
  });

  it('delivers to each device only its own desired state and acks, whatever it subscribes to, and keeps out borrowed identities', async () => {
    const root = services.topics.root;
    const { topics } = services;
    const allTopics = devices.flatMap((owner) => DEVICE_CHANNELS.map((channel) => topics.forDevice(owner.siteId, owner.deviceId, channel)));

    const subscribers = await Promise.all(devices.map((device) => asDevice(device)));
    const wildcards = {
      [`${root}/#`]: await asDevice(special.wildAll),
      [`${root}/+/+/desired`]: await asDevice(special.wildDesired),
      [`${root}/${special.wildSite.siteId}/+/desired`]: await asDevice(special.wildSite),
      [`$share/loupe-cloud/${root}/+/+/samples`]: await asDevice(special.shared),
    };
    // Another device's client id, with the borrower's own valid credentials:
    // refused (embedded, dynamic security), or renamed to the borrower's user
    // name (Mosquitto's files).
    const borrowed: { received: string[] }[] = [];
    await settle(
      asDevice(special.borrower, devices[0]!.username).then(async (connection) => {
        borrowed.push(connection);
        await subscribe(connection.client, topics.forDevice(devices[0]!.siteId, devices[0]!.deviceId, 'desired'));
      }),
    );
    const refusals = {
      anonymous: await settle(connect(broker.deviceUrl, { clientId: uniqueName('anonymous') })),
      borrowedUsername: await settle(connect(broker.deviceUrl, { clientId: devices[0]!.username, username: devices[0]!.username, password: devices[1]!.password })),
      revoked: await settle(asDevice(special.revoked)),
    };
    expect(refusals).toEqual({ anonymous: 'refused', borrowedUsername: 'refused', revoked: 'refused' });

    await Promise.all(subscribers.flatMap(({ client }) => allTopics.map((topic) => subscribe(client, topic))));
    await Promise.all(Object.entries(wildcards).map(([filter, { client }]) => subscribe(client, filter)));
    await Promise.all(allTopics.map((topic) => observer.publishAsync(topic, 'the cloud', { qos: 1 })));

    const delivered = () => [
      ...devices.flatMap((device, index) => subscribers[index]!.received.map((message) => `${device.username} <- ${describeTopic(message.split(' ')[0]!)}`)),
      ...Object.entries(wildcards).flatMap(([filter, { received }]) => received.map((message) => `${filter} <- ${describeTopic(message.split(' ')[0]!)}`)),
      ...borrowed.flatMap(({ received }) => received.map((message) => `borrowed client id <- ${describeTopic(message.split(' ')[0]!)}`)),
    ];
    const expected = devices.flatMap((device) =>
      devices.flatMap((owner) =>
        DEVICE_CHANNELS.filter((channel) => owner === device && SUBSCRIBES.includes(channel)).map((channel) => `${device.username} <- ${name(owner)}/${channel}`),
      ),
    );
    await eventually(() => expect(delivered().sort()).toEqual(expected.sort()), { timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, STRAY_WINDOW_MS));
    expect(delivered().sort()).toEqual(expected.sort());
    // The device whose client id was borrowed kept its session.
    expect(subscribers[0]!.client.connected).toBe(true);
    await Promise.all(subscribers.map(({ client }) => client.endAsync()));
  });

  it('lets each device publish only to its own samples, telemetry and reported state', async () => {
    const { topics } = services;
    // One connection per attempt: a device has one client id, and a refused PUBLISH may end the connection.
    await Promise.all(
      devices.map(async (device) => {
        for (const owner of devices) {
          for (const channel of DEVICE_CHANNELS) {
            const { client } = await asDevice(device);
            const publish = client.publishAsync(topics.forDevice(owner.siteId, owner.deviceId, channel), `device ${device.username}`, { qos: 1 });
            await settle(Promise.race([publish, new Promise<void>((resolve) => client.once('close', () => resolve()))]));
            await client.endAsync(true);
          }
        }
      }),
    );
    const expected = devices.flatMap((device) => PUBLISHES.map((channel) => `${device.username} -> ${device.username}/${channel}`));
    await eventually(() => expect([...observed].sort()).toEqual(expected.sort()), { timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, STRAY_WINDOW_MS));
    expect([...observed].sort()).toEqual(expected.sort());
  });

  it('disconnects a device when it is revoked, and refuses it afterwards', async () => {
    const { client } = await asDevice(special.doomed);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await services.enrollment.revoke(special.doomed);
    await broker.applyRevocation();
    await closed;
    expect(await settle(asDevice(special.doomed))).toBe('refused');
  });
});
