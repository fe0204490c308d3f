import { FAILED_UPDATE_STATUSES, InvalidReportedStateError, updateStatusName } from '@loupe/device-state';
import type { MqttLink } from '@loupe/mqtt';
import { GroupCommit } from '@loupe/service';
import type { DeviceTopic, DeviceTopics } from '@loupe/topics';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { CLOUD_METRICS, LOGGER, MQTT_LINK, MQTT_SHARE_GROUP, TOPICS } from '../../infrastructure.tokens';
import { DeviceChannelSubscription } from '../devices/device-channel-subscription';
import type { CloudMetrics } from '../../metrics/cloud-metrics';
import { DeviceModelStates, type DeviceReportRecord } from './device-model-states';
import { readReportedState, type ReportedStateRecord } from './reported-state-payload';

const FAILED_STATUS_NAMES: readonly string[] = FAILED_UPDATE_STATUSES.map(updateStatusName);

/**
 * A rollout step asks thousands of boxes at once and each answers within
 * moments: one statement per report would queue them all behind the pool.
 * Reports are validated before they are added, so a group that fails fails
 * for the database's reasons, alike for every report in it.
 */
const REPORT_GROUPS = { maxGroup: 1_000, concurrency: 2, gatherOneTurn: true, retryAlone: () => false };

/**
 * Consumes every device's ReportedState into device_model_states, where the
 * rollout reconciler reads it. A device reports again on every change and
 * every reconnect, so a message lost in a crash is soon replaced.
 */
@Injectable()
export class ReportedStateConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscription: DeviceChannelSubscription<ReportedStateRecord>;
  private readonly log: Logger;
  private readonly reports: GroupCommit<DeviceReportRecord, void>;

  constructor(
    @Inject(MQTT_LINK) link: MqttLink,
    @Inject(TOPICS) topics: DeviceTopics,
    @Inject(MQTT_SHARE_GROUP) private readonly shareGroup: string,
    @Inject(DeviceModelStates) states: DeviceModelStates,
    @Inject(CLOUD_METRICS) metrics: CloudMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'reported-state' });
    this.reports = new GroupCommit<DeviceReportRecord, void>(async (reports) => {
      await states.recordReported(reports);
      return reports.map(() => undefined);
    }, REPORT_GROUPS);
    this.subscription = new DeviceChannelSubscription(link, topics, 'reported', {
      read: readReportedState,
      record: (topic, report) => this.record(topic, report),
      isRefusal: (error) => error instanceof InvalidReportedStateError,
      outcomes: metrics.reportedStates,
      noun: 'reported state',
      log: this.log,
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.subscription.start(this.shareGroup);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.subscription.drain();
  }

  private async record(topic: DeviceTopic, report: ReportedStateRecord): Promise<void> {
    const device = { siteId: topic.siteId, deviceId: topic.deviceId };
    await this.reports.add({ ...device, report });
    if (FAILED_STATUS_NAMES.includes(report.status)) {
      this.log.warn({ ...device, status: report.status, error: report.error, generation: report.generation }, 'device reports a failed model update');
    }
  }
}
