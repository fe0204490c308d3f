import type { ModelVersion } from '@loupe/device-state';
import { DeviceTopics } from '@loupe/topics';
import mqtt from 'mqtt';
import type { ModelBehaviour } from './model-behaviour';
import { SimulatedDevice, type DeviceEvent } from './simulated-device';

export interface FleetSimulatorOptions {
  brokerUrl: string;
  topicRoot: string;
  devices: { siteId: string; deviceId: string; username?: string; password?: string }[];
  initialModel: ModelVersion;
  /** The behaviour of each model version; versions not named behave well. */
  behaviours: Record<string, ModelBehaviour>;
  telemetryIntervalMs?: number;
  inspectionsPerTelemetry?: number;
  updateMs?: number;
  crashAfterMs?: number;
  /** Connections opened at once: a broker takes a burst of thousands of CONNECTs badly. */
  connectConcurrency?: number;
}

/**
 * MQTT 5 when the broker speaks it, as the agent prefers; else 3.1.1. Aedes,
 * the embedded broker, closes an MQTT 5 connection at once.
 */
export async function brokerProtocol(brokerUrl: string): Promise<4 | 5> {
  try {
    const probe = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000 });
    await probe.endAsync();
    return 5;
  } catch {
    return 4;
  }
}

/** N simulated boxes on one broker, and what each of them did. */
export class FleetSimulator {
  readonly events: DeviceEvent[] = [];
  readonly devices: SimulatedDevice[];
  private readonly connectConcurrency: number;

  static async start(options: FleetSimulatorOptions): Promise<FleetSimulator> {
    const fleet = new FleetSimulator(options, await brokerProtocol(options.brokerUrl));
    await fleet.connect();
    return fleet;
  }

  private constructor(options: FleetSimulatorOptions, protocolVersion: 4 | 5) {
    const topics = new DeviceTopics(options.topicRoot);
    this.devices = options.devices.map(
      (device) =>
        new SimulatedDevice(
          {
            brokerUrl: options.brokerUrl,
            protocolVersion,
            topics,
            ...device,
            initialModel: options.initialModel,
            behaviourOf: (model) => options.behaviours[model.version] ?? 'good',
            telemetryIntervalMs: options.telemetryIntervalMs ?? 1_000,
            inspectionsPerTelemetry: options.inspectionsPerTelemetry ?? 100,
            updateMs: options.updateMs ?? 50,
            crashAfterMs: options.crashAfterMs ?? 200,
          },
          (event) => this.events.push(event),
        ),
    );
    this.connectConcurrency = options.connectConcurrency ?? 100;
  }

  private async connect(): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < this.devices.length) await this.devices[next++]!.start();
    };
    await Promise.all(Array.from({ length: Math.min(this.connectConcurrency, this.devices.length) }, worker));
  }

  async stop(): Promise<void> {
    await Promise.all(this.devices.map((device) => device.stop()));
  }

  /** How many boxes run each version now. */
  versions(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const device of this.devices) counts.set(device.activeVersion, (counts.get(device.activeVersion) ?? 0) + 1);
    return counts;
  }

  devicesOn(version: string): string[] {
    return this.devices.filter((device) => device.activeVersion === version).map((device) => device.key);
  }
}
