import { Inject, Injectable } from '@nestjs/common';
import { CLOUD_METRICS, LOGGER, MQTT_LINK, TOPICS } from '../../infrastructure.tokens';
import { desiredStateToWire } from '@loupe/device-state';
import type { MqttLink } from '@loupe/mqtt';
import { DesiredState } from '@loupe/proto';
import type { DeviceTopics } from '@loupe/topics';
import type { Logger } from 'pino';
import type { CloudMetrics } from '../../metrics/cloud-metrics';
import { desiredModelOf } from './desired-state-record';
import type { DesiredStateRow } from './device-model-states';

// Enough to keep the broker busy without holding thousands of unacknowledged
// publishes in mqtt.js's memory.
const IN_FLIGHT = 64;

/**
 * Publishes each device's DesiredState, retained, so a device that is
 * offline now gets it when it connects. The row in Postgres is the truth;
 * a publish that fails is counted and left to the next republish.
 */
@Injectable()
export class DesiredStatePublisher {
  private readonly log: Logger;

  constructor(
    @Inject(MQTT_LINK) private readonly link: MqttLink,
    @Inject(TOPICS) private readonly topics: DeviceTopics,
    @Inject(CLOUD_METRICS) private readonly metrics: CloudMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'desired-state' });
  }

  /** Resolves with how many were published; the rest failed and were logged. */
  async publish(rows: DesiredStateRow[]): Promise<number> {
    let next = 0;
    let published = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        try {
          await this.link.publish(this.topics.forDevice(row.siteId, row.deviceId, 'desired'), DesiredState.encode(desiredStateToWire(desiredModelOf(row.desired, row.generation))).finish(), { qos: 1, retain: true });
          this.metrics.desiredStatesPublished.inc({ outcome: 'published' });
          published++;
        } catch (error) {
          this.metrics.desiredStatesPublished.inc({ outcome: 'failed' });
          this.log.warn({ siteId: row.siteId, deviceId: row.deviceId, generation: row.generation, err: (error as Error).message }, 'desired state not published; it is sent again later');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, rows.length) }, worker));
    return published;
  }
}
