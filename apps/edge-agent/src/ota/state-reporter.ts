import { reportedStateToWire } from '@loupe/device-state';
import type { ModelSlot } from '@loupe/inference';
import { MqttNotConnectedError, type MqttLink } from '@loupe/mqtt';
import { ReportedState } from '@loupe/proto';
import type { DeviceTopics } from '@loupe/topics';
import type { Logger } from 'pino';
import type { BoxStateFile, PersistedBoxState } from './box-state-file';
import type { OtaMetrics } from './ota-metrics';

/** One ReportedState (proto/loupe/v1/state.proto) from the box state and the model actually in the slot. */
export function buildReportedState(identity: { siteId: string; deviceId: string }, state: BoxStateFile['current'], slot: ModelSlot, now: Date): ReportedState {
  const running = slot.current?.model;
  return reportedStateToWire({
    device: identity,
    reportedAt: now,
    generation: state.report.generation,
    active: state.active,
    staged: state.staged,
    previous: state.previous,
    status: state.report.status,
    error: state.report.error,
    provider: running?.provider ?? '',
    runningSha256: running?.sha256 ?? '',
    rolloutId: state.report.rolloutId,
    crashes: state.probation?.crashes ?? state.report.crashes,
  });
}

/**
 * Publishes the box's model state on its `reported` topic (QoS 1) at every
 * status change and on every (re)connect, so the cloud learns where a
 * returning box stands. Reports go out one at a time, in order; one that
 * cannot go while the link is down is dropped, since the reconnect sends
 * the state as it is then.
 */
export class StateReporter {
  private readonly topic: string;
  private readonly log: Logger;
  private publishing: Promise<void> = Promise.resolve();
  private readonly onConnected = () => void this.publish();

  constructor(
    private readonly link: MqttLink,
    topics: DeviceTopics,
    private readonly identity: { siteId: string; deviceId: string },
    private readonly state: BoxStateFile,
    private readonly slot: ModelSlot,
    private readonly metrics: OtaMetrics,
    logger: Logger,
  ) {
    this.topic = topics.forDevice(identity.siteId, identity.deviceId, 'reported');
    this.log = logger.child({ component: 'state-reporter' });
  }

  start(): void {
    this.link.on('connected', this.onConnected);
  }

  async stop(): Promise<void> {
    this.link.off('connected', this.onConnected);
    await this.publishing;
  }

  /**
   * Reports the durable state; `unrecorded` reports a status the disk
   * refused to take (a full disk) in its place, so the cloud still learns
   * it. The next report says what is durable again.
   */
  publish(unrecorded?: PersistedBoxState['report']): Promise<void> {
    this.publishing = this.publishing.then(() => this.publishNow(unrecorded));
    return this.publishing;
  }

  private async publishNow(unrecorded: PersistedBoxState['report'] | undefined): Promise<void> {
    const state = unrecorded ? { ...this.state.current, report: unrecorded } : this.state.current;
    const report = buildReportedState(this.identity, state, this.slot, new Date());
    this.metrics.setStatus(state.report.status);
    try {
      await this.link.publish(this.topic, ReportedState.encode(report).finish(), { qos: 1 });
      this.log.debug({ status: state.report.status, generation: report.generation }, 'state reported');
    } catch (error) {
      if (error instanceof MqttNotConnectedError) return;
      this.log.warn({ err: (error as Error).message }, 'state report not published; the next connect sends it');
    }
  }
}
