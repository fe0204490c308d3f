import type { MqttLink } from '@loupe/mqtt';
import { SampleAck } from '@loupe/proto';
import type { DeviceTopics } from '@loupe/topics';
import type { Logger } from 'pino';

export interface DeviceName {
  siteId: string;
  deviceId: string;
}

interface PendingAck {
  device: DeviceName;
  sampleIds: string[];
  rejected: { sampleId: string; reason: string }[];
}

/**
 * Tells devices which samples are stored and which are refused for good.
 * The samples of a group are settled together, so what settles in one turn
 * of the event loop goes to each device as one SampleAck.
 */
export class SampleAcks {
  private readonly pending = new Map<string, PendingAck>();
  private scheduled = false;

  constructor(
    private readonly link: MqttLink,
    private readonly topics: DeviceTopics,
    private readonly log: Logger,
  ) {}

  stored(device: DeviceName, sampleId: string): void {
    this.pendingFor(device).sampleIds.push(sampleId);
  }

  /** `reason` starts with the refusal reason, e.g. `invalid: unit_serial has a control character ...`. */
  refused(device: DeviceName, sampleId: string, reason: string): void {
    this.pendingFor(device).rejected.push({ sampleId, reason });
  }

  /** Sends every pending SampleAck now. */
  flush(): void {
    this.scheduled = false;
    for (const { device, sampleIds, rejected } of this.pending.values()) this.send(device, SampleAck.fromPartial({ sampleIds, rejected }));
    this.pending.clear();
  }

  private pendingFor(device: DeviceName): PendingAck {
    const name = `${device.siteId}/${device.deviceId}`;
    let pending = this.pending.get(name);
    if (!pending) {
      pending = { device, sampleIds: [], rejected: [] };
      this.pending.set(name, pending);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return pending;
  }

  /**
   * Sends a SampleAck without waiting for the broker's PUBACK, which could
   * wait behind the messages this connection is handling. A lost SampleAck
   * costs a repeat upload, nothing more.
   */
  private send(device: DeviceName, ack: SampleAck): void {
    const topic = this.topics.forDevice(device.siteId, device.deviceId, 'acks');
    this.link.publish(topic, SampleAck.encode(ack).finish(), { qos: 1 }).catch((error: unknown) => {
      this.log.warn({ ...device, err: (error as Error).message }, 'SampleAck not sent; the device will upload again');
    });
  }
}
