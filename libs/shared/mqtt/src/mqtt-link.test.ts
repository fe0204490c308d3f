import { startBrokerProcess, startTcpProxy, startTestBroker, eventually, type BrokerProcess, type TcpProxy, type TestBroker, uniqueName } from '@loupe/testing';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Backoff } from '@loupe/service';
import { registerLinkMetrics } from './link-metrics';
import { MqttConnectionLostError, MqttLink, MqttNotConnectedError } from './mqtt-link';

const logger = pino({ level: 'silent' });

describe('MqttLink', () => {
  let broker: TestBroker;
  let proxy: TcpProxy;
  const links: MqttLink[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    const target = new URL(broker.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 1883) });
  });
  afterEach(async () => {
    proxy.restore();
    await Promise.all(links.splice(0).map((link) => link.stop()));
  });
  afterAll(async () => {
    await proxy?.stop();
    await broker?.stop();
  });

  function link(url = `mqtt://${proxy.address}`, persistentSession = false) {
    const created = new MqttLink({
      url,
      clientId: uniqueName('link'),
      persistentSession,
      backoff: new Backoff({ initialMs: 20, maxMs: 200 }),
      logger,
    });
    links.push(created);
    created.start();
    return created;
  }

  it('speaks MQTT 5 to brokers that accept it and 3.1.1 to Aedes', async () => {
    const connected = link();
    await connected.waitConnected(5_000);
    expect(connected.protocolVersion).toBe(broker.kind === 'aedes' ? 4 : 5);
  });

  it('delivers messages on its subscriptions', async () => {
    const receiver = link();
    const received: string[] = [];
    receiver.onMessage(`${broker.topicRoot}/+/+/telemetry`, (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    await receiver.subscribe(`${broker.topicRoot}/+/+/telemetry`, 1);
    await receiver.waitConnected(5_000);
    const sender = link();
    await sender.waitConnected(5_000);
    await sender.publish(`${broker.topicRoot}/s1/d1/telemetry`, Buffer.from('t1'), { qos: 1 });
    await eventually(() => expect(received).toEqual([`${broker.topicRoot}/s1/d1/telemetry=t1`]));
  });

  it('hands each handler, plain or acking, only the messages its filter matches', async () => {
    const receiver = link();
    const root = `${broker.topicRoot}/route`;
    const received: string[] = [];
    receiver.onMessage(`${root}/+/+/telemetry`, (topic, payload) => received.push(`telemetry ${topic.slice(root.length)}=${payload.toString()}`));
    receiver.onMessage(`${root}/s1/d1/#`, (topic) => received.push(`d1 ${topic.slice(root.length)}`));
    const stored: string[] = [];
    receiver.ackAfter(`${root}/+/+/samples`, (_topic, payload) => {
      stored.push(payload.toString());
      return Promise.resolve();
    });
    await receiver.subscribe(`${root}/#`, 1);
    await receiver.waitConnected(5_000);
    const sender = link();
    await sender.waitConnected(5_000);
    for (const [topic, payload] of [['/s1/d1/telemetry', 't1'], ['/s2/d2/samples', 'x1'], ['/s2/d2/reported', 'r1'], ['/s1/d1/samples', 'x2']]) {
      await sender.publish(`${root}${topic}`, Buffer.from(payload!), { qos: 1 });
    }
    await eventually(() => expect(stored).toEqual(['x1', 'x2']));
    expect(received).toEqual(['telemetry /s1/d1/telemetry=t1', 'd1 /s1/d1/telemetry', 'd1 /s1/d1/samples']);
  });

  it('acknowledges a message only after its handler succeeds, so a failed one comes again', async () => {
    const clientId = uniqueName('acking');
    const receiver = new MqttLink({ url: broker.url, clientId, persistentSession: true, backoff: new Backoff({ initialMs: 20, maxMs: 200 }), logger });
    links.push(receiver);
    const attempts: string[] = [];
    let failNext = true;
    receiver.ackAfter(`${broker.topicRoot}/+/+/samples`, (_topic, payload) => {
      attempts.push(payload.toString());
      if (!failNext) return Promise.resolve();
      failNext = false;
      return Promise.reject(new Error('database unavailable'));
    });
    await receiver.subscribe(`${broker.topicRoot}/+/+/samples`, 1);
    receiver.start();
    await receiver.waitConnected(5_000);
    const sender = link();
    await sender.waitConnected(5_000);
    await sender.publish(`${broker.topicRoot}/s1/d1/samples`, Buffer.from('s1'), { qos: 1 });
    await eventually(() => expect(attempts).toEqual(['s1', 's1']), { timeoutMs: 10_000 });
  });

  it('handles messages at once and acknowledges them in arrival order, each only after its handler succeeds', async () => {
    const clientId = uniqueName('batching');
    const topic = `${broker.topicRoot}/batch/d1/samples`;
    const receiving = (onMessage: (payload: string) => Promise<void>) => {
      const receiver = new MqttLink({ url: broker.url, clientId, persistentSession: true, backoff: new Backoff({ initialMs: 20, maxMs: 200 }), logger });
      links.push(receiver);
      receiver.ackAfter(topic, (_topic, payload) => onMessage(payload.toString()));
      return receiver;
    };
    const finish = new Map<string, () => void>();
    const first = receiving((payload) => new Promise((resolve) => finish.set(payload, resolve)));
    await first.subscribe(topic, 1);
    first.start();
    await first.waitConnected(5_000);
    const sender = link();
    await sender.waitConnected(5_000);
    const messages = Array.from({ length: 10 }, (_, index) => String(index));
    for (const message of messages) await sender.publish(topic, Buffer.from(message), { qos: 1 });
    // All ten are being handled together, none finished.
    await eventually(() => expect([...finish.keys()].sort()).toEqual(messages));
    // 0-2 and 6-9 finish; 3 holds back every PUBACK after it.
    for (const message of ['0', '1', '2', '6', '7', '8', '9']) finish.get(message)!();
    await new Promise((resolve) => setImmediate(resolve));
    await first.stop();

    const again: string[] = [];
    const second = receiving((payload) => {
      again.push(payload);
      return Promise.resolve();
    });
    await second.subscribe(topic, 1);
    second.start();
    await eventually(() => expect([...again].sort()).toEqual(['3', '4', '5', '6', '7', '8', '9']));
  });

  it('splits a shared subscription between group members on MQTT 5, and subscribes plainly on 3.1.1', async () => {
    const members = [link(), link()];
    const received: string[][] = [[], []];
    members.forEach((member, index) => member.onMessage(`${broker.topicRoot}/share/+/samples`, (_topic, payload) => received[index]?.push(payload.toString())));
    for (const member of members) {
      await member.subscribe(`${broker.topicRoot}/share/+/samples`, 1, { shareGroup: 'cloud' });
      await member.waitConnected(5_000);
    }
    const sender = link();
    await sender.waitConnected(5_000);
    for (let i = 0; i < 20; i++) await sender.publish(`${broker.topicRoot}/share/d1/samples`, Buffer.from(String(i)), { qos: 1 });
    const total = broker.kind === 'aedes' ? 40 : 20;
    await eventually(() => expect(received[0]!.length + received[1]!.length).toBe(total));
  });

  it('leaves a shared-only subscription out on 3.1.1, where it would duplicate every message', async () => {
    const main = link();
    const extra = link();
    const received: string[][] = [[], []];
    [main, extra].forEach((member, index) => member.onMessage(`${broker.topicRoot}/extra/+/samples`, (_topic, payload) => received[index]?.push(payload.toString())));
    await main.subscribe(`${broker.topicRoot}/extra/+/samples`, 1, { shareGroup: 'cloud' });
    await extra.subscribe(`${broker.topicRoot}/extra/+/samples`, 1, { shareGroup: 'cloud', sharedOnly: true });
    await Promise.all([main.waitConnected(5_000), extra.waitConnected(5_000)]);
    const sender = link();
    await sender.waitConnected(5_000);
    for (let i = 0; i < 20; i++) await sender.publish(`${broker.topicRoot}/extra/d1/samples`, Buffer.from(String(i)), { qos: 1 });
    await eventually(() => expect(received[0]!.length + received[1]!.length).toBe(20));
    if (broker.kind === 'aedes') expect(received[1]).toEqual([]);
  });

  it('refuses to publish while down instead of queueing in memory', async () => {
    const down = link('mqtt://127.0.0.1:1');
    await expect(down.publish(`${broker.topicRoot}/s1/d1/telemetry`, Buffer.from('x'), { qos: 1 })).rejects.toThrow(
      MqttNotConnectedError,
    );
  });

  it('fails a publish whose acknowledgement the network cut swallowed, and keeps publishing after', async () => {
    const sender = link(undefined, true);
    await sender.waitConnected(5_000);
    // Cut in the same tick as the publish: its PUBACK cannot arrive first.
    const inFlight = sender.publish(`${broker.topicRoot}/lost/d1/telemetry`, Buffer.from('x'), { qos: 1 });
    proxy.cut();
    await expect(inFlight).rejects.toThrow(MqttConnectionLostError);
    proxy.restore();
    await sender.waitConnected(5_000);
    await expect(sender.publish(`${broker.topicRoot}/lost/d1/telemetry`, Buffer.from('y'), { qos: 1 })).resolves.toBeUndefined();
  });

  it('reconnects after a network cut and subscribes again', async () => {
    const receiver = link();
    const received: string[] = [];
    receiver.onMessage(`${broker.topicRoot}/cut/+/telemetry`, (_topic, payload) => received.push(payload.toString()));
    await receiver.subscribe(`${broker.topicRoot}/cut/+/telemetry`, 1);
    await receiver.waitConnected(5_000);

    const disconnected = new Promise((resolve) => receiver.once('disconnected', resolve));
    proxy.cut();
    await disconnected;
    expect(receiver.connected).toBe(false);
    proxy.restore();
    await receiver.waitConnected(5_000);

    const sender = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await sender.publishAsync(`${broker.topicRoot}/cut/d1/telemetry`, 'after-cut', { qos: 1 });
      await eventually(() => expect(received).toEqual(['after-cut']));
    } finally {
      await sender.endAsync();
    }
  });
});

describe('MqttLink on an MQTT 5 broker of its own (Mosquitto when installed)', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess();
    if (broker.kind !== 'mosquitto') {
      process.stdout.write('mqtt-link: the Maximum Packet Size leg needs the mosquitto binary; on Aedes (MQTT 3.1.1) it checks that nothing is lost instead\n');
    }
  });
  afterAll(() => broker?.stop());

  it('is never handed a message larger than it advertises (MQTT 5), nor reconnects over one; the messages around it arrive', async () => {
    const receiver = new MqttLink({ url: broker.url, clientId: uniqueName('small'), persistentSession: false, maxPacketBytes: 4_096, logger });
    const registry = new Registry();
    registerLinkMetrics(receiver, registry, 'test');
    const received: number[] = [];
    receiver.ackAfter('limits/+', (_topic, payload) => {
      received.push(payload.byteLength);
      return Promise.resolve();
    });
    await receiver.subscribe('limits/+', 1);
    receiver.start();
    try {
      await receiver.waitConnected(5_000);
      const sender = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      for (const bytes of [100, 8_000, 200]) await sender.publishAsync('limits/x', Buffer.alloc(bytes), { qos: 1 });
      await sender.endAsync();
      await eventually(() => expect(received).toContain(200));
      expect(received).toEqual(broker.kind === 'mosquitto' ? [100, 200] : [100, 8_000, 200]);
      expect((await registry.getSingleMetric('test_mqtt_connects_total')!.get()).values[0]!.value).toBe(1);
    } finally {
      await receiver.stop();
    }
  });
});
