import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReportedState, Telemetry, type InspectResponse, type InspectServiceClient } from '@loupe/proto';
import type { SigningKey } from '@loupe/model-package';
import { eventually, uniqueName } from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { writeRegistryKeys } from './model-packages';
import { DEMO_MODEL_DIR, startTestAgent, type TestAgent } from './test-agent';

export const DEVICE = { siteId: 'plant-7', deviceId: 'aoi-1' };
const NORMAL_IMAGE = join(DEMO_MODEL_DIR, 'sample-images', 'Normal_33.png');

/**
 * The cloud's side of OTA for one device, on a real broker: publishes the
 * retained desired state and collects what the device reports.
 */
export class FleetObserver {
  readonly reports: ReportedState[] = [];
  readonly telemetry: Telemetry[] = [];
  private readonly topics: DeviceTopics;

  private constructor(
    private readonly client: MqttClient,
    topicRoot: string,
    readonly device: { siteId: string; deviceId: string },
  ) {
    this.topics = new DeviceTopics(topicRoot);
  }

  static async connect(url: string, topicRoot: string, device = DEVICE): Promise<FleetObserver> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: uniqueName('fleet-observer') });
    const observer = new FleetObserver(client, topicRoot, device);
    const reported = observer.topic('reported');
    client.on('message', (topic, payload) => {
      if (topic === reported) observer.reports.push(ReportedState.decode(payload));
      else observer.telemetry.push(Telemetry.decode(payload));
    });
    await client.subscribeAsync([reported, observer.topic('telemetry')], { qos: 1 });
    return observer;
  }

  get latest(): ReportedState | undefined {
    return this.reports.at(-1);
  }

  async desire(payload: Buffer): Promise<void> {
    await this.client.publishAsync(this.topic('desired'), payload, { qos: 1, retain: true });
  }

  /** Clears the retained desired state (the shared broker keeps it otherwise) and disconnects. */
  async close(): Promise<void> {
    await this.client.publishAsync(this.topic('desired'), Buffer.alloc(0), { qos: 1, retain: true });
    await this.client.endAsync();
  }

  private topic(channel: 'desired' | 'reported' | 'telemetry'): string {
    return this.topics.forDevice(this.device.siteId, this.device.deviceId, channel);
  }
}

/** One Inspect call with a real line image; rejects with the gRPC error. */
export async function inspectOnce(client: InspectServiceClient): Promise<InspectResponse> {
  const image = await readFile(NORMAL_IMAGE);
  return new Promise((resolve, reject) =>
    client.inspect({ requestId: uniqueName('r'), stationId: 'line-3-aoi', unitSerial: 'SN-1', image }, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

/**
 * An agent in this process serving the demo pcb-aoi (version 1) from
 * MODEL_MANIFEST and trusting packages `registry` signs, with the cloud's
 * side of its OTA; ready once it answers on version 1. The caller stops both.
 */
export async function startOtaAgent(registry: SigningKey, env: Record<string, string> = {}): Promise<{ agent: TestAgent; fleet: FleetObserver }> {
  const agent = await startTestAgent({
    SITE_ID: DEVICE.siteId,
    DEVICE_ID: DEVICE.deviceId,
    MODEL_MANIFEST: join(DEMO_MODEL_DIR, 'manifest.json'),
    EXECUTION_PROVIDERS: 'cpu',
    TELEMETRY_INTERVAL: '200ms',
    ...env,
  });
  let fleet: FleetObserver | undefined;
  try {
    await writeRegistryKeys(agent.config.ota.registryKeysFile, [registry]);
    fleet = await FleetObserver.connect(agent.broker.url, agent.broker.topicRoot);
    await eventually(async () => {
      if ((await inspectOnce(agent.client)).model?.version !== '1') throw new Error('not serving version 1 yet');
    });
    return { agent, fleet };
  } catch (error) {
    await fleet?.close();
    await agent.stop();
    throw error;
  }
}
