import { MqttLink } from '@loupe/mqtt';
import { Backoff } from '@loupe/service';
import { Telemetry } from '@loupe/proto';
import { eventually, startTcpProxy, startTestBroker, uniqueName, type TcpProxy, type TestBroker } from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelStats } from '../models/model-stats';
import { AgentMetrics } from '../status/agent-metrics';
import { AgentStatus } from '../status/agent-status';
import { TelemetryPublisher, buildTelemetry } from './telemetry-publisher';

const logger = pino({ level: 'silent' });

describe('buildTelemetry', () => {
  it('carries identity, versions and the active model', () => {
    const status = new AgentStatus('0.1.0', 0);
    status.setActiveModel({ name: 'pcb-aoi', version: '3', sha256: 'ab' }, 'cpu');
    const message = buildTelemetry({ siteId: 's1', deviceId: 'd1' }, status, new Date('2026-11-22T10:00:00Z'));
    expect(message).toMatchObject({
      device: { siteId: 's1', deviceId: 'd1' },
      sentAt: new Date('2026-11-22T10:00:00Z'),
      agentVersion: '0.1.0',
      model: { name: 'pcb-aoi', version: '3', sha256: 'ab' },
      provider: 'cpu',
    });
    expect(message.modelStats).toBeUndefined();
  });

  it("carries the active model's stats since its activation, for the rollout gates", () => {
    const status = new AgentStatus('0.1.0', 0);
    const model = { name: 'pcb-aoi', version: '3', sha256: 'ab' };
    const stats = new ModelStats();
    stats.reset(model);
    stats.failed();
    const message = buildTelemetry({ siteId: 's1', deviceId: 'd1' }, status, new Date(), stats);
    expect(message.modelStats).toMatchObject({ model, inspections: 0, errors: 1, confidenceHistogram: new Array(10).fill(0) });
  });
});

describe('TelemetryPublisher', () => {
  let broker: TestBroker;
  let proxy: TcpProxy;
  let observer: MqttClient;
  const received: Telemetry[] = [];
  const running: { publisher: TelemetryPublisher; link: MqttLink }[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    const target = new URL(broker.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 1883) });
    observer = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: uniqueName('observer') });
    observer.on('message', (_topic, payload) => received.push(Telemetry.decode(payload)));
    await observer.subscribeAsync(new DeviceTopics(broker.topicRoot).allDevices('telemetry'), { qos: 1 });
  });
  afterEach(async () => {
    proxy.restore();
    for (const { publisher, link } of running.splice(0)) {
      await publisher.stop();
      await link.stop();
    }
    received.length = 0;
  });
  afterAll(async () => {
    await observer?.endAsync();
    await proxy?.stop();
    await broker?.stop();
  });

  function startPublisher(deviceId: string, intervalMs: number) {
    const metrics = new AgentMetrics();
    const link = new MqttLink({
      url: `mqtt://${proxy.address}`,
      clientId: uniqueName(deviceId),
      // As the agent runs: a persistent session.
      persistentSession: true,
      backoff: new Backoff({ initialMs: 20, maxMs: 100 }),
      logger,
    });
    const publisher = new TelemetryPublisher(
      link,
      new DeviceTopics(broker.topicRoot),
      { siteId: 'plant-7', deviceId },
      new AgentStatus('0.1.0'),
      metrics,
      intervalMs,
      logger,
    );
    publisher.start();
    link.start();
    running.push({ publisher, link });
    return { metrics, link };
  }

  const fromDevice = (deviceId: string) => received.filter((message) => message.device?.deviceId === deviceId);

  it('publishes at once on connect, then every interval', async () => {
    startPublisher('periodic', 100);
    await eventually(() => expect(fromDevice('periodic').length).toBeGreaterThanOrEqual(3));
    expect(fromDevice('periodic')[0]).toMatchObject({ agentVersion: '0.1.0', device: { siteId: 'plant-7' } });
  });

  it('counts telemetry it could not send while the network is cut, without queueing it', async () => {
    const { metrics, link } = startPublisher('cut', 50);
    await link.waitConnected(5_000);
    proxy.cut();
    await eventually(async () => {
      const skipped = (await metrics.telemetryMessages.get()).values.find((v) => v.labels.outcome === 'skipped');
      expect(skipped?.value).toBeGreaterThanOrEqual(3);
    });
    const beforeRestore = fromDevice('cut').length;
    proxy.restore();
    await link.waitConnected(5_000);
    await eventually(() => expect(fromDevice('cut').length).toBeGreaterThan(beforeRestore));
    // Nothing skipped during the cut arrives late in a burst.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(fromDevice('cut').length - beforeRestore).toBeLessThanOrEqual(5);
  });
});
