import { FAILED_UPDATE_STATUSES, InvalidReportedStateError, updateStatusName } from '@loupe/device-state';
import type { MqttLink } from '@loupe/mqtt';
import type { DeviceTopic, DeviceTopics } from '@loupe/topics';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DeviceChannelSubscription } from '../../devices/device-channel-subscription';
import type { CloudMetrics } from '../../metrics/cloud-metrics';
import type { DeviceModelStates } from './device-model-states';
import { readReportedState } from './reported-state-payload';

const FAILED_STATUS_NAMES: readonly string[] = FAILED_UPDATE_STATUSES.map(updateStatusName);

/**
 * Consumes every device's ReportedState into device_model_states, where the
 * rollout reconciler reads it. A device reports again on every change and
 * every reconnect, so a message lost in a crash is soon replaced.
 */
export class ReportedStateConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscription: DeviceChannelSubscription;
  private readonly log: Logger;

  constructor(
    link: MqttLink,
    topics: DeviceTopics,
    private readonly shareGroup: string,
    private readonly states: DeviceModelStates,
    private readonly metrics: CloudMetrics,
    logger: Logger,
  ) {
    this.subscription = new DeviceChannelSubscription(link, topics, 'reported', (topic, payload) => this.consume(topic, payload));
    this.log = logger.child({ component: 'reported-state' });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.subscription.start(this.shareGroup);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.subscription.drain();
  }

  private async consume(topic: DeviceTopic, payload: Buffer): Promise<void> {
    const device = { siteId: topic.siteId, deviceId: topic.deviceId };
    try {
      const report = readReportedState(topic, payload);
      await this.states.recordReported(device, report);
      this.metrics.reportedStates.inc({ outcome: 'recorded' });
      if (FAILED_STATUS_NAMES.includes(report.status)) {
        this.log.warn({ ...device, status: report.status, error: report.error, generation: report.generation }, 'device reports a failed model update');
      }
    } catch (error) {
      if (error instanceof InvalidReportedStateError) {
        this.metrics.reportedStates.inc({ outcome: 'rejected' });
        this.log.warn({ ...device, reason: error.message }, 'reported state rejected');
      } else {
        this.metrics.reportedStates.inc({ outcome: 'failed' });
        this.log.error({ ...device, err: (error as Error).message }, 'reported state could not be recorded');
      }
    }
  }
}
