import { modelStatsToWire, parseDesiredState, reportedStateToWire, type DesiredModel, type ModelVersion, type UpdateStatus } from '@loupe/device-state';
import { lastFailureOf, planUpdate, withFailure, type BoxState, type UpdateStep } from '@loupe/ota';
import { DesiredState, ReportedState, Telemetry } from '@loupe/proto';
import type { DeviceTopics } from '@loupe/topics';
import mqtt, { type MqttClient } from 'mqtt';
import { SimulatedModelStats, type ModelBehaviour } from './model-behaviour';

export interface SimulatedDeviceOptions {
  brokerUrl: string;
  /** 5 as the agent speaks it; 4 (3.1.1) for brokers without MQTT 5, like the embedded Aedes. */
  protocolVersion: 4 | 5;
  topics: DeviceTopics;
  siteId: string;
  deviceId: string;
  username?: string;
  password?: string;
  /** The model the box runs when the simulation starts. */
  initialModel: ModelVersion;
  behaviourOf: (model: ModelVersion) => ModelBehaviour;
  telemetryIntervalMs: number;
  inspectionsPerTelemetry: number;
  /** Download, verify, warm-up and self-test, all in one pause. */
  updateMs: number;
  /** How long after activation a crashing model brings the box down and is rolled back. */
  crashAfterMs: number;
}

/** What a simulated box did, when: the fleet simulator's figures come from these. */
export interface DeviceEvent {
  at: number;
  siteId: string;
  deviceId: string;
  kind: 'activated' | 'rolled-back' | 'refused' | 'reverted';
  version: string;
}

/**
 * One simulated edge box: it speaks the agent's MQTT protocol (retained
 * DesiredState in, ReportedState and Telemetry with ModelStats out) and plans
 * its updates with the agent's own planner (@loupe/ota), so it ignores old
 * generations, rolls back to the previous version locally and does not
 * retry a version that failed. Its "model" is a behaviour knob instead of
 * onnxruntime, and every step but activation is a pause.
 */
export class SimulatedDevice {
  private client: MqttClient | undefined;
  private box: BoxState;
  private stats: SimulatedModelStats;
  private rolloutId = '';
  private generation = 0;
  private crashes = 0;
  private updating: Promise<void> | undefined;
  private latest: DesiredModel | undefined;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: SimulatedDeviceOptions,
    private readonly onEvent: (event: DeviceEvent) => void,
  ) {
    this.box = { active: options.initialModel, failures: [] };
    this.stats = new SimulatedModelStats(options.behaviourOf(options.initialModel));
  }

  get key(): string {
    return `${this.options.siteId}/${this.options.deviceId}`;
  }

  get activeVersion(): string {
    return this.box.active?.version ?? '';
  }

  async start(): Promise<void> {
    const { options } = this;
    this.client = await mqtt.connectAsync(options.brokerUrl, {
      // The agent's client id: its user name, the only one the broker lets it use.
      clientId: this.key,
      protocolVersion: options.protocolVersion,
      clean: true,
      reconnectPeriod: 1_000,
      ...(options.username === undefined ? {} : { username: options.username, password: options.password }),
    });
    this.client.on('message', (_topic, payload) => this.onDesired(payload));
    this.client.on('connect', () => void this.report('active', ''));
    await this.client.subscribeAsync(options.topics.forDevice(options.siteId, options.deviceId, 'desired'), { qos: 1 });
    await this.report('active', '');
    await this.sendTelemetry();
    this.telemetryTimer = setInterval(() => void this.sendTelemetry(), options.telemetryIntervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.telemetryTimer);
    // An update waiting on a cleared timer never finishes; nothing waits for it.
    for (const timer of this.timers) clearTimeout(timer);
    await this.client?.endAsync();
  }

  private onDesired(payload: Buffer): void {
    let desired: DesiredModel;
    try {
      desired = parseDesiredState(DesiredState.decode(payload));
    } catch {
      return;
    }
    if (this.latest && desired.generation <= this.latest.generation) return;
    const shadow = desired.shadow?.model;
    this.stats.runShadow(shadow, shadow ? this.options.behaviourOf(shadow) : 'good');
    this.latest = desired;
    this.updating ??= this.reconcile().finally(() => (this.updating = undefined));
  }

  /** Plans again after each desired state, so a burst of messages ends on the last. */
  private async reconcile(): Promise<void> {
    while (this.latest && this.latest.generation > this.generation) {
      const desired = this.latest;
      this.generation = desired.generation;
      this.rolloutId = desired.rolloutId;
      await this.run(desired, planUpdate(desired, this.box));
    }
  }

  private async run(desired: DesiredModel, steps: UpdateStep[]): Promise<void> {
    for (const step of steps) {
      switch (step.kind) {
        case 'nothing': {
          const failure = step.reason === 'failed-before' ? lastFailureOf(desired.model, this.box) : undefined;
          this.box = { ...this.box, settledGeneration: Math.max(this.box.settledGeneration ?? 0, desired.generation) };
          if (failure) await this.report('failed', failure.message);
          else await this.report('active', '');
          return;
        }
        case 'download':
          await this.report('downloading', '');
          await this.pause(this.options.updateMs);
          break;
        case 'verify':
          if (this.options.behaviourOf(desired.model) === 'corrupt') {
            await this.fail(desired, 'verify', 'hash-mismatch', `the package's SHA-256 is not ${desired.package.sha256}; version ${desired.model.version} refused`);
            return;
          }
          break;
        case 'stage':
          this.box = { ...this.box, staged: desired.model };
          break;
        case 'warm-up':
        case 'self-test':
          break;
        case 'activate':
          this.activate(desired.model, desired.generation);
          this.emit('activated', desired.model.version);
          await this.report('active', '');
          await this.sendTelemetry();
          if (this.options.behaviourOf(desired.model) === 'crashing') this.later(this.options.crashAfterMs, () => this.crash(desired));
          break;
        case 'roll-back':
          this.activate(step.to, desired.generation);
          this.emit('reverted', step.to.version);
          await this.report('active', '');
          break;
      }
    }
  }

  /** What the agent does when a model on probation takes the process down: back to the previous version, never this one again. */
  private async crash(desired: DesiredModel): Promise<void> {
    const { active, previous } = this.box;
    if (!active || !previous || active.version !== desired.model.version) return;
    this.crashes++;
    const message = `version ${active.version} crashed the agent during its probation window; rolled back to ${previous.version}`;
    this.activate(previous, desired.generation);
    this.box = { ...this.box, failures: withFailure(this.box.failures, { model: desired.model, generation: desired.generation, step: 'probation', reason: 'crashes', message }) };
    this.emit('rolled-back', desired.model.version);
    await this.report('rolled-back', message);
  }

  private async fail(desired: DesiredModel, step: 'verify', reason: string, message: string): Promise<void> {
    this.box = {
      ...this.box,
      settledGeneration: desired.generation,
      failures: withFailure(this.box.failures, { model: desired.model, generation: desired.generation, step, reason, message }),
    };
    this.emit('refused', desired.model.version);
    await this.report('failed', `${reason}: ${message}`);
  }

  private activate(model: ModelVersion, generation: number): void {
    const { active, staged: _loaded, ...rest } = this.box;
    this.box = { ...rest, active: model, ...(active ? { previous: active } : {}), settledGeneration: generation };
    this.stats = new SimulatedModelStats(this.options.behaviourOf(model));
  }

  private async report(status: UpdateStatus, error: string): Promise<void> {
    const message = reportedStateToWire({
      device: { siteId: this.options.siteId, deviceId: this.options.deviceId },
      reportedAt: new Date(),
      generation: this.generation,
      active: this.box.active,
      previous: this.box.previous,
      status,
      error,
      provider: 'cpu',
      runningSha256: this.box.active?.sha256 ?? '',
      rolloutId: this.rolloutId,
      crashes: this.crashes,
    });
    await this.publish('reported', ReportedState.encode(message).finish());
  }

  private async sendTelemetry(): Promise<void> {
    const active = this.box.active;
    this.stats.inspect(this.options.inspectionsPerTelemetry);
    const message = Telemetry.fromPartial({
      device: { siteId: this.options.siteId, deviceId: this.options.deviceId },
      sentAt: new Date(),
      agentVersion: 'fleet-sim',
      ...(active ? { model: active, modelStats: modelStatsToWire(this.stats.snapshot(active)) } : {}),
      provider: 'cpu',
    });
    await this.publish('telemetry', Telemetry.encode(message).finish());
  }

  private async publish(channel: 'reported' | 'telemetry', payload: Uint8Array): Promise<void> {
    if (!this.client?.connected) return;
    try {
      await this.client.publishAsync(this.options.topics.forDevice(this.options.siteId, this.options.deviceId, channel), Buffer.from(payload), { qos: 1 });
    } catch {
      // A box that lost its link reports again on reconnect.
    }
  }

  private emit(kind: DeviceEvent['kind'], version: string): void {
    this.onEvent({ at: Date.now(), siteId: this.options.siteId, deviceId: this.options.deviceId, kind, version });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }

  private later(ms: number, work: () => unknown): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void work();
    }, ms);
    this.timers.add(timer);
  }
}
