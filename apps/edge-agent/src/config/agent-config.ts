import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { envBoolean, envDurationMs, envPort, envUrl, loadConfig } from '@loupe/config';
import { DEFAULT_MAX_IMAGE_PIXELS, PROVIDERS, type PipelineSettings } from '@loupe/inference';
import { LOG_LEVELS } from '@loupe/service';
import { InvalidSamplingPolicyError, parseSamplingPolicy, type SamplingPolicy } from '@loupe/sampling';
import { DEFAULT_TOPIC_ROOT, isTopicRoot, isTopicSegment, TOPIC_ROOT_RULE } from '@loupe/topics';
import { z } from 'zod';
import type { EnrollmentSettings } from '../identity/device-login';
import { isOtaFaultPoint, OTA_FAULT_POINTS } from '../ota/fault-points';
import type { OtaSettings } from '../ota/model-updates';

const topicSegment = z
  .string()
  .refine(isTopicSegment, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");

/** The host name as a device id: boxes are usually named after their station. */
function defaultDeviceId(): string {
  const candidate = hostname().toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  return isTopicSegment(candidate) ? candidate : 'edge-device';
}

/**
 * Every setting of the edge agent. docs/configuration.md documents each key;
 * a test keeps the two in step. Nothing else reads process.env.
 */
export const agentEnvSchema = z.object({
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  SITE_ID: topicSegment.default('default-site'),
  DEVICE_ID: topicSegment.default(defaultDeviceId()),
  MQTT_URL: envUrl(['mqtt', 'mqtts', 'ws', 'wss']).default('mqtt://127.0.0.1:1883'),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_TOPIC_ROOT: z.string().refine(isTopicRoot, TOPIC_ROOT_RULE).default(DEFAULT_TOPIC_ROOT),
  CLOUD_URL: envUrl(['http', 'https']).optional(),
  ENROLLMENT_TOKEN: z.string().min(1).max(200).optional(),
  DEVICE_CREDENTIALS_FILE: z.string().min(1).default('.data/edge/credentials.json'),
  TELEMETRY_INTERVAL: envDurationMs()
    .refine((ms) => ms >= 100, 'must be at least 100ms')
    .prefault('10s'),
  STATUS_HOST: z.string().min(1).default('127.0.0.1'),
  STATUS_PORT: envPort().default(9464),
  SHUTDOWN_TIMEOUT: envDurationMs().prefault('10s'),

  GRPC_HOST: z.string().min(1).default('0.0.0.0'),
  GRPC_PORT: envPort().default(50051),
  MODEL_MANIFEST: z.string().min(1).optional(),
  EXECUTION_PROVIDERS: z
    .string()
    .transform((value) => value.split(',').map((name) => name.trim()))
    .pipe(z.array(z.enum(PROVIDERS, { message: `each must be one of ${PROVIDERS.join(', ')}` })).min(1))
    .prefault('tensorrt,cuda,cpu'),
  TENSORRT_FP16: envBoolean().default(true),
  TENSORRT_INT8: envBoolean().default(false),
  TENSORRT_INT8_CALIBRATION_TABLE: z.string().min(1).optional(),
  TENSORRT_ENGINE_CACHE_DIR: z.string().min(1).default('.data/edge/engine-cache'),
  TENSORRT_WORKSPACE_BYTES: z.coerce.number().int().positive().default(2 ** 30),
  CUDA_DEVICE_ID: z.coerce.number().int().min(0).default(0),
  CPU_INTRA_OP_THREADS: z.coerce.number().int().min(0).default(0),
  CPU_INTER_OP_THREADS: z.coerce.number().int().min(0).default(1),
  CPU_SPIN_WAIT: envBoolean().default(false),
  BATCH_MAX_SIZE: z.coerce.number().int().min(1).max(256).default(8),
  BATCH_MAX_DELAY: envDurationMs().prefault('2ms'),
  BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  INFERENCE_QUEUE_LIMIT: z.coerce.number().int().min(1).default(256),
  MAX_IMAGE_PIXELS: z.coerce.number().int().positive().default(DEFAULT_MAX_IMAGE_PIXELS),
  WARMUP_RUNS: z.coerce.number().int().min(0).default(3),

  SAMPLING_POLICY: z
    .string()
    .transform((value, context) => {
      try {
        return parseSamplingPolicy(JSON.parse(value));
      } catch (error) {
        const reason = error instanceof InvalidSamplingPolicyError || error instanceof SyntaxError ? error.message : String(error);
        context.addIssue({ code: 'custom', message: `must be a JSON sampling policy: ${reason}` });
        return z.NEVER;
      }
    })
    .prefault('{}'),
  SAMPLE_MAX_IMAGE_BYTES: z.coerce.number().int().min(16 * 1024).default(4 * 1024 * 1024),
  OUTBOX_DIR: z.string().min(1).default('.data/edge/outbox'),
  OUTBOX_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).default(2 * 1024 ** 3),
  OUTBOX_MAX_SAMPLES: z.coerce.number().int().min(1).default(20_000),
  OUTBOX_DISK_RESERVE_BYTES: z.coerce.number().int().min(0).default(64 * 1024 ** 2),
  OUTBOX_QUARANTINE_MAX_BYTES: z.coerce.number().int().min(0).default(256 * 1024 ** 2),
  OUTBOX_QUARANTINE_MAX_SAMPLES: z.coerce.number().int().min(1).default(1_000),
  UPLINK_WINDOW: z.coerce.number().int().min(1).max(1_000).default(256),
  UPLINK_WINDOW_BYTES: z.coerce.number().int().min(1).default(16 * 1024 * 1024),
  UPLINK_ACK_TIMEOUT: envDurationMs()
    .refine((ms) => ms >= 100, 'must be at least 100ms')
    .prefault('30s'),
  UPLINK_MAX_BYTES_PER_SECOND: z.coerce.number().int().min(0).default(0),
  UPLINK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(10),

  MODELS_DIR: z.string().min(1).default('.data/edge/models'),
  REGISTRY_KEYS_FILE: z.string().min(1).default('.data/edge/registry-keys.json'),
  OTA_DISK_RESERVE_BYTES: z.coerce.number().int().min(0).default(256 * 1024 ** 2),
  OTA_DOWNLOAD_STALL_TIMEOUT: envDurationMs()
    .refine((ms) => ms >= 100, 'must be at least 100ms')
    .prefault('30s'),
  OTA_SELFTEST_LATENCY_BUDGET: envDurationMs()
    .refine((ms) => ms >= 1, 'must be at least 1ms')
    .prefault('2s'),
  OTA_PROBATION_WINDOW: envDurationMs().prefault('10m'),
  OTA_PROBATION_MAX_CRASHES: z.coerce.number().int().min(1).default(2),
  OTA_PROBATION_MAX_ERROR_RATE: z.coerce.number().min(0).max(1).default(0.05),
  OTA_PROBATION_P99_BUDGET: envDurationMs()
    .refine((ms) => ms >= 1, 'must be at least 1ms')
    .prefault('1s'),
  OTA_PROBATION_MIN_INSPECTIONS: z.coerce.number().int().min(1).default(20),
  SHADOW_QUEUE_SIZE: z.coerce.number().int().min(1).max(1_024).default(4),
  OTA_TEST_KILL_AT: z.string().refine(isOtaFaultPoint, `must be one of ${OTA_FAULT_POINTS.join(', ')}`).optional(),
}).superRefine((env, context) => {
  if (env.ENROLLMENT_TOKEN !== undefined && env.CLOUD_URL === undefined) {
    context.addIssue({ code: 'custom', path: ['CLOUD_URL'], message: 'is required with ENROLLMENT_TOKEN: the box enrolls at this cloud' });
  }
});

type AgentEnv = z.output<typeof agentEnvSchema>;

export interface AgentConfig {
  logLevel: AgentEnv['LOG_LEVEL'];
  siteId: string;
  deviceId: string;
  mqtt: { url: string; username?: string; password?: string; topicRoot: string };
  /** How the box gets its broker credentials at first start. */
  enrollment: EnrollmentSettings;
  telemetryIntervalMs: number;
  status: { host: string; port: number };
  shutdownTimeoutMs: number;
  grpc: { host: string; port: number };
  /** The model to serve at start; without one the agent waits for an update. */
  modelManifest?: string;
  inference: PipelineSettings;
  sampling: { policy: SamplingPolicy; maxImageBytes: number };
  outbox: { directory: string; maxBytes: number; maxCount: number; diskReserveBytes: number; quarantine: { maxBytes: number; maxCount: number } };
  uplink: { window: number; windowBytes: number; ackTimeoutMs: number; bytesPerSecond: number; maxAttempts: number };
  ota: OtaSettings;
  /** Images waiting for the shadow model; more are skipped, never waited for. */
  shadow: { queueSize: number };
}

export function loadAgentConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const e = loadConfig('loupe edge agent', agentEnvSchema, env);
  return {
    logLevel: e.LOG_LEVEL,
    siteId: e.SITE_ID,
    deviceId: e.DEVICE_ID,
    mqtt: {
      url: e.MQTT_URL,
      topicRoot: e.MQTT_TOPIC_ROOT,
      ...(e.MQTT_USERNAME === undefined ? {} : { username: e.MQTT_USERNAME }),
      ...(e.MQTT_PASSWORD === undefined ? {} : { password: e.MQTT_PASSWORD }),
    },
    enrollment: {
      credentialsFile: resolve(e.DEVICE_CREDENTIALS_FILE),
      ...(e.CLOUD_URL === undefined ? {} : { cloudUrl: e.CLOUD_URL }),
      ...(e.ENROLLMENT_TOKEN === undefined ? {} : { token: e.ENROLLMENT_TOKEN }),
    },
    telemetryIntervalMs: e.TELEMETRY_INTERVAL,
    status: { host: e.STATUS_HOST, port: e.STATUS_PORT },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
    grpc: { host: e.GRPC_HOST, port: e.GRPC_PORT },
    ...(e.MODEL_MANIFEST === undefined ? {} : { modelManifest: resolve(e.MODEL_MANIFEST) }),
    inference: inferenceSettings(e),
    sampling: { policy: e.SAMPLING_POLICY, maxImageBytes: e.SAMPLE_MAX_IMAGE_BYTES },
    outbox: outboxSettings(e),
    uplink: {
      window: e.UPLINK_WINDOW,
      windowBytes: e.UPLINK_WINDOW_BYTES,
      ackTimeoutMs: e.UPLINK_ACK_TIMEOUT,
      bytesPerSecond: e.UPLINK_MAX_BYTES_PER_SECOND,
      maxAttempts: e.UPLINK_MAX_ATTEMPTS,
    },
    ota: otaSettings(e),
    shadow: { queueSize: e.SHADOW_QUEUE_SIZE },
  };
}

function inferenceSettings(e: AgentEnv): PipelineSettings {
  return {
    providers: {
      chain: e.EXECUTION_PROVIDERS,
      tensorrt: {
        fp16: e.TENSORRT_FP16,
        int8: e.TENSORRT_INT8,
        ...(e.TENSORRT_INT8_CALIBRATION_TABLE === undefined ? {} : { int8CalibrationTable: resolve(e.TENSORRT_INT8_CALIBRATION_TABLE) }),
        engineCacheDir: resolve(e.TENSORRT_ENGINE_CACHE_DIR),
        workspaceBytes: e.TENSORRT_WORKSPACE_BYTES,
      },
      cuda: { deviceId: e.CUDA_DEVICE_ID },
      cpu: { intraOpThreads: e.CPU_INTRA_OP_THREADS, interOpThreads: e.CPU_INTER_OP_THREADS, spinWait: e.CPU_SPIN_WAIT },
    },
    batch: {
      maxBatch: e.BATCH_MAX_SIZE,
      maxDelayMs: e.BATCH_MAX_DELAY,
      maxQueue: e.INFERENCE_QUEUE_LIMIT,
      concurrentBatches: e.BATCH_CONCURRENCY,
    },
    maxImagePixels: e.MAX_IMAGE_PIXELS,
    warmUpRuns: e.WARMUP_RUNS,
  };
}

function outboxSettings(e: AgentEnv): AgentConfig['outbox'] {
  return {
    directory: resolve(e.OUTBOX_DIR),
    maxBytes: e.OUTBOX_MAX_BYTES,
    maxCount: e.OUTBOX_MAX_SAMPLES,
    diskReserveBytes: e.OUTBOX_DISK_RESERVE_BYTES,
    quarantine: { maxBytes: e.OUTBOX_QUARANTINE_MAX_BYTES, maxCount: e.OUTBOX_QUARANTINE_MAX_SAMPLES },
  };
}

function otaSettings(e: AgentEnv): OtaSettings {
  return {
    modelsDir: resolve(e.MODELS_DIR),
    registryKeysFile: resolve(e.REGISTRY_KEYS_FILE),
    diskReserveBytes: e.OTA_DISK_RESERVE_BYTES,
    ...(e.OTA_TEST_KILL_AT === undefined ? {} : { testKillAt: e.OTA_TEST_KILL_AT }),
    downloadStallTimeoutMs: e.OTA_DOWNLOAD_STALL_TIMEOUT,
    selfTestLatencyBudgetMs: e.OTA_SELFTEST_LATENCY_BUDGET,
    probation: {
      windowMs: e.OTA_PROBATION_WINDOW,
      budget: {
        maxCrashes: e.OTA_PROBATION_MAX_CRASHES,
        maxErrorRate: e.OTA_PROBATION_MAX_ERROR_RATE,
        maxP99Ms: e.OTA_PROBATION_P99_BUDGET,
        minInspections: e.OTA_PROBATION_MIN_INSPECTIONS,
      },
    },
  };
}
