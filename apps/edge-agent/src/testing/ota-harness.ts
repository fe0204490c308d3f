import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReportedState, Telemetry, type InspectResponse, type InspectServiceClient } from '@loupe/proto';
import { uniqueName } from '@loupe/testing';
import { DeviceTopics } from '@loupe/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { DEMO_MODEL_DIR } from './test-agent';

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
