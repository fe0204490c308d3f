import type { MqttLink } from '@loupe/mqtt';
import { MqttNotConnectedError } from '@loupe/mqtt';
import { modelStatsToWire } from '@loupe/device-state';
import { Telemetry } from '@loupe/proto';
import type { DeviceTopics } from '@loupe/topics';
import type { Logger } from 'pino';
import type { ModelStats } from '../models/model-stats';
import type { AgentMetrics } from '../status/agent-metrics';
import type { AgentStatus } from '../status/agent-status';

export interface DeviceIdentity {
  siteId: string;
  deviceId: string;
}

/** Builds one Telemetry message (proto/loupe/v1/telemetry.proto) from the agent's status and the active model's stats. */
export function buildTelemetry(identity: DeviceIdentity, status: AgentStatus, sentAt: Date, modelStats?: ModelStats): Telemetry {
  const snapshot = status.snapshot();
  const stats = modelStats?.snapshot();
  return Telemetry.fromPartial({
    device: identity,
    sentAt,
    agentVersion: snapshot.agentVersion,
    ...(snapshot.model ? { model: snapshot.model } : {}),
    provider: snapshot.provider ?? '',
    uptimeSeconds: snapshot.uptimeSeconds,
    ...(stats ? { modelStats: modelStatsToWire(stats) } : {}),
  });
}

/**
 * Publishes the agent's telemetry every interval, and at once on every
 * (re)connect so the cloud sees a returning box without waiting a period.
 * Telemetry is a heartbeat, not a record: one missed while the link is down
 * is counted and dropped, never queued.
 */
export class TelemetryPublisher {
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> | undefined;
  private readonly topic: string;
  private readonly log: Logger;
  private readonly onConnected = () => this.tick();

  constructor(
    private readonly link: MqttLink,
    topics: DeviceTopics,
    private readonly identity: DeviceIdentity,
    private readonly status: AgentStatus,
    private readonly metrics: AgentMetrics,
    private readonly intervalMs: number,
    logger: Logger,
    private readonly modelStats?: ModelStats,
  ) {
    this.topic = topics.forDevice(identity.siteId, identity.deviceId, 'telemetry');
    this.log = logger.child({ component: 'telemetry', ...identity });
  }

  start(): void {
    this.link.on('connected', this.onConnected);
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.link.off('connected', this.onConnected);
    await this.pending;
  }

  private tick(): void {
    // A publish still waiting for its PUBACK means the link is struggling;
    // piling more on would only grow mqtt.js's in-memory backlog.
    if (this.pending) return;
    this.pending = this.publish().finally(() => (this.pending = undefined));
  }

  private async publish(): Promise<void> {
    const payload = Telemetry.encode(buildTelemetry(this.identity, this.status, new Date(), this.modelStats)).finish();
    try {
      await this.link.publish(this.topic, payload, { qos: 1 });
      this.metrics.telemetryMessages.inc({ outcome: 'sent' });
    } catch (error) {
      if (error instanceof MqttNotConnectedError) {
        this.metrics.telemetryMessages.inc({ outcome: 'skipped' });
        this.log.debug('telemetry skipped: broker not connected');
        return;
      }
      this.metrics.telemetryMessages.inc({ outcome: 'failed' });
      this.log.warn({ err: (error as Error).message }, 'telemetry publish failed');
    }
  }
}
