import type { MqttLink } from '@loupe/mqtt';
import { SampleAck } from '@loupe/proto';
import { GroupCommit } from '@loupe/service';
import type { DeviceTopics } from '@loupe/topics';
import type { Logger } from 'pino';

export interface DeviceName {
  siteId: string;
  deviceId: string;
}

/** One sample settled: stored, or refused for good with its reason. */
interface Settled {
  device: DeviceName;
  sampleId: string;
  refusal?: string;
}

/**
 * Tells devices which samples are stored and which are refused for good.
 * The samples of a group are settled together, so what settles in one turn
 * of the event loop goes to each device as one SampleAck: a GroupCommit
 * that gathers one turn, with no bound on the group.
 */
export class SampleAcks {
  private readonly groups: GroupCommit<Settled, void>;

  constructor(
    private readonly link: MqttLink,
    private readonly topics: DeviceTopics,
    private readonly log: Logger,
  ) {
    this.groups = new GroupCommit((settled) => Promise.resolve(this.sendAll(settled)), {
      maxGroup: Number.POSITIVE_INFINITY,
      concurrency: Number.POSITIVE_INFINITY,
      gatherOneTurn: true,
    });
  }

  stored(device: DeviceName, sampleId: string): void {
    void this.groups.add({ device, sampleId });
  }

  /** `reason` starts with the refusal reason, e.g. `invalid: unit_serial has a control character ...`. */
  refused(device: DeviceName, sampleId: string, reason: string): void {
    void this.groups.add({ device, sampleId, refusal: reason });
  }

  /** Sends every pending SampleAck now. */
  flush(): void {
    this.groups.flush();
  }

  /** One SampleAck per device, its samples in the order they settled; sending never fails the group. */
  private sendAll(settled: Settled[]): void[] {
    const byDevice = new Map<string, { device: DeviceName; ack: SampleAck }>();
    for (const { device, sampleId, refusal } of settled) {
      const name = `${device.siteId}/${device.deviceId}`;
      let pending = byDevice.get(name);
      if (!pending) {
        pending = { device, ack: SampleAck.fromPartial({ sampleIds: [], rejected: [] }) };
        byDevice.set(name, pending);
      }
      if (refusal === undefined) pending.ack.sampleIds.push(sampleId);
      else pending.ack.rejected.push({ sampleId, reason: refusal });
    }
    for (const { device, ack } of byDevice.values()) this.send(device, ack);
    return settled.map(() => undefined);
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
