import { redactUrl } from '@loupe/config';
import { ModelSlot } from '@loupe/inference';
import { MqttLink, registerLinkMetrics } from '@loupe/mqtt';
import { Backoff } from '@loupe/service';
import { SampleSelector } from '@loupe/sampling';
import { DeviceTopics, deviceUsername } from '@loupe/topics';
import type { Logger } from 'pino';
import type { AgentConfig } from './config/agent-config';
import { deviceLogin } from './identity/device-login';
import { InspectHandlers } from './inspect/inspect.handlers';
import { startInspectServer, type InspectServer } from './inspect/inspect-server';
import { ModelActivation } from './models/model-activation';
import { ModelStats } from './models/model-stats';
import { startModelUpdates, type ModelUpdates } from './ota/model-updates';
import { ShadowComparison } from './shadow/shadow-comparison';
import { ShadowMetrics } from './shadow/shadow-metrics';
import { SampleCapture } from './samples/sample-capture';
import { SampleOutbox } from './samples/sample-outbox';
import { SampleUplink } from './samples/sample-uplink';
import { AgentMetrics } from './status/agent-metrics';
import { AgentStatus } from './status/agent-status';
import { startStatusServer } from './status/status-server';
import { TelemetryPublisher, type DeviceIdentity } from './telemetry/telemetry-publisher';
import { AGENT_VERSION } from './version';

export interface RunningAgent {
  statusUrl: string;
  /** `host:port` of the Inspect gRPC API. */
  grpcAddress: string;
  /** Loads a model and swaps it in; false when it was refused. */
  activateModel(manifestPath: string): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * The agent's composition root. It starts without waiting for the broker: a
 * box must come up and serve its line while the network is still away.
 * Only a box's very first start with an ENROLLMENT_TOKEN waits, for the
 * cloud to enroll it.
 */
export async function startAgent(configured: AgentConfig, logger: Logger): Promise<RunningAgent> {
  const identity = { siteId: configured.siteId, deviceId: configured.deviceId };
  const log = logger.child(identity);
  const config = await withDeviceLogin(configured, identity, log);
  const metrics = new AgentMetrics();
  const status = new AgentStatus(AGENT_VERSION);
  const link = brokerLink(config, metrics, log);
  const topics = new DeviceTopics(config.mqtt.topicRoot);
  const modelStats = new ModelStats();
  const delivery = await openSampleDelivery({ config, identity, link, topics, metrics, modelStats, log });
  const serving = await startServing({ config, capture: delivery.capture, status, metrics, modelStats, log });
  const statusServer = await startStatusServer({ ...config.status, ...identity }, { status, metrics, link });
  const telemetry = new TelemetryPublisher(link, topics, identity, status, metrics, config.telemetryIntervalMs, log, modelStats);
  telemetry.start();
  await delivery.uplink.start();
  link.start();
  log.info(
    { agentVersion: AGENT_VERSION, mqttUrl: redactUrl(config.mqtt.url), statusUrl: statusServer.url, grpcAddress: serving.inspectServer.address },
    'edge agent started',
  );
  const updates = startUpdates({ config, identity, link, topics, serving, modelStats, metrics, log });

  return {
    statusUrl: statusServer.url,
    grpcAddress: serving.inspectServer.address,
    activateModel: (manifestPath) => serving.activation.activate(manifestPath),
    // Stop taking work (updates, Inspect), finish what is in flight (samples
    // to disk), then close connections: the uplink and telemetry publish
    // through the link, and the status page answers until the end.
    stop: async () => {
      await updates.stop();
      await serving.stop(config.shutdownTimeoutMs / 2);
      await delivery.stop();
      await telemetry.stop();
      await link.stop();
      await statusServer.stop();
    },
  };
}

/** Enrolled credentials sign in to the broker and to package downloads, as MQTT_USERNAME/MQTT_PASSWORD would. */
async function withDeviceLogin(configured: AgentConfig, identity: DeviceIdentity, log: Logger): Promise<AgentConfig> {
  const login = await deviceLogin({
    ...identity,
    configured: configured.mqtt,
    enrollment: configured.enrollment,
    registryKeysFile: configured.ota.registryKeysFile,
    log: log.child({ component: 'enrollment' }),
  });
  return { ...configured, mqtt: { ...configured.mqtt, ...login } };
}

/** The box's one broker connection; it connects when started, and keeps trying. */
function brokerLink(config: AgentConfig, metrics: AgentMetrics, log: Logger): MqttLink {
  const link = new MqttLink({
    url: config.mqtt.url,
    // The broker admits a device only under its own user name as client id, so it never takes over another's session.
    clientId: deviceUsername(config.siteId, config.deviceId),
    ...(config.mqtt.username === undefined ? {} : { username: config.mqtt.username }),
    ...(config.mqtt.password === undefined ? {} : { password: config.mqtt.password }),
    persistentSession: true,
    backoff: new Backoff({ initialMs: 500, maxMs: 30_000 }),
    logger: log,
  });
  registerLinkMetrics(link, metrics.registry, 'loupe_agent');
  return link;
}

interface SampleDelivery {
  capture: SampleCapture;
  uplink: SampleUplink;
  /** Selected samples reach the disk before the process goes; unsent ones wait there for the next start. */
  stop(): Promise<void>;
}

/** The path of a kept image: captured into the outbox on disk, sent up from there. */
async function openSampleDelivery(parts: {
  config: AgentConfig;
  identity: DeviceIdentity;
  link: MqttLink;
  topics: DeviceTopics;
  metrics: AgentMetrics;
  modelStats: ModelStats;
  log: Logger;
}): Promise<SampleDelivery> {
  const { config, identity, link, topics, metrics, modelStats, log } = parts;
  const { directory: outboxDirectory, ...outboxLimits } = config.outbox;
  const outbox = await SampleOutbox.open(
    outboxDirectory,
    { ...outboxLimits, maxPendingWrites: 1_024, maxPendingBytes: 64 * 1024 * 1024 },
    {
      dropped: (_sample, reason) => metrics.outboxDropped.inc({ reason }),
      quarantined: (_sample, reason) => metrics.outboxQuarantined.inc({ reason }),
    },
    log,
  );
  metrics.trackOutbox(outbox);
  const uplink = new SampleUplink(
    link,
    outbox,
    { samples: topics.forDevice(config.siteId, config.deviceId, 'samples'), acks: topics.forDevice(config.siteId, config.deviceId, 'acks') },
    config.uplink,
    {
      published: (bytes) => {
        metrics.samplesPublished.inc();
        metrics.sampleBytesPublished.inc(bytes);
      },
      acknowledged: (count) => metrics.samplesAcknowledged.inc(count),
      resent: (reason) => metrics.samplesResent.inc({ reason }),
    },
    log,
  );
  const selector = new SampleSelector(config.sampling.policy);
  const capture = new SampleCapture(selector, outbox, () => uplink.notify(), identity, config.sampling.maxImageBytes, metrics, modelStats, log);
  return {
    capture,
    uplink,
    stop: async () => {
      await capture.settle();
      await outbox.close();
      await uplink.stop();
    },
  };
}

interface Serving {
  slot: ModelSlot;
  shadow: { comparison: ShadowComparison; metrics: ShadowMetrics };
  inspectServer: InspectServer;
  activation: ModelActivation;
  /** Says NOT_SERVING, lets Inspect calls finish for up to `timeoutMs`, then unloads the models. */
  stop(timeoutMs: number): Promise<void>;
}

/** The Inspect API and the model slots behind it; NOT_SERVING until a model is activated. */
async function startServing(parts: {
  config: AgentConfig;
  capture: SampleCapture;
  status: AgentStatus;
  metrics: AgentMetrics;
  modelStats: ModelStats;
  log: Logger;
}): Promise<Serving> {
  const { config, capture, status, metrics, modelStats, log } = parts;
  const slot = new ModelSlot();
  metrics.trackInferenceQueue(() => slot.current?.queueDepth ?? 0);
  const shadowMetrics = new ShadowMetrics(metrics.registry);
  const shadow = new ShadowComparison(config.shadow.queueSize, modelStats, shadowMetrics, log);
  const inspectServer = await startInspectServer(config.grpc, new InspectHandlers(slot, capture, metrics, modelStats, shadow, log), log);
  const activation = new ModelActivation(slot, config.inference, status, metrics, modelStats, (serving) => inspectServer.setServing(serving), log);
  return {
    slot,
    shadow: { comparison: shadow, metrics: shadowMetrics },
    inspectServer,
    activation,
    stop: async (timeoutMs) => {
      inspectServer.setServing(false);
      await inspectServer.stop(timeoutMs);
      await slot.close();
      await shadow.stop();
    },
  };
}

/**
 * Loading (warm-up, golden samples; on TensorRT the engine build) runs in
 * the background: health says NOT_SERVING until the model is ready. The
 * model comes from the box's OTA state, or MODEL_MANIFEST on a fresh box.
 */
function startUpdates(parts: {
  config: AgentConfig;
  identity: DeviceIdentity;
  link: MqttLink;
  topics: DeviceTopics;
  serving: Serving;
  modelStats: ModelStats;
  metrics: AgentMetrics;
  log: Logger;
}): ModelUpdates {
  const { config, identity, link, topics, serving, modelStats, metrics, log } = parts;
  const updates = startModelUpdates({
    settings: config.ota,
    ...(config.modelManifest ? { bootManifest: config.modelManifest } : {}),
    identity,
    link,
    topics,
    ...(config.mqtt.username === undefined ? {} : { credentials: { username: config.mqtt.username, password: config.mqtt.password ?? '' } }),
    slot: serving.slot,
    activation: serving.activation,
    stats: modelStats,
    shadow: serving.shadow,
    registry: metrics.registry,
    logger: log,
  });
  updates.started.catch((error: unknown) => log.error({ err: error }, 'model updates did not start; the box keeps what it serves'));
  return updates;
}
