import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { InspectServiceClient } from '@loupe/proto';
import { startTestBroker } from '@loupe/testing';
import { pino } from 'pino';
import { startAgent, type RunningAgent } from '../agent-runtime';
import { loadAgentConfig, type AgentConfig } from '../config/agent-config';

const workspace = join(import.meta.dirname, '..', '..', '..', '..');
/** The pcb-aoi demo model that ships in the repository. */
export const DEMO_MODEL_DIR = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi');
/** Real models with known answers, copied into the repository (see tools/testdata/README.md). */
export const TEST_MODELS = join(workspace, 'tools', 'testdata', 'models');

export interface TestAgent {
  agent: RunningAgent;
  client: InspectServiceClient;
  config: AgentConfig;
  /** The agent's broker, and the topic root only it uses. */
  broker: { url: string; topicRoot: string };
  /** Its data (outbox, models, registry keys), removed at stop. */
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * An edge agent in this process on a test broker, with its gRPC and status
 * servers on free loopback ports, and an Inspect client connected to it.
 * `env` adds to or overrides the agent's settings.
 */
export async function startTestAgent(env: Record<string, string>): Promise<TestAgent> {
  const broker = await startTestBroker();
  const dataDir = await mkdtemp(join(tmpdir(), 'loupe-agent-'));
  const config = loadAgentConfig({
    MQTT_URL: broker.url,
    MQTT_TOPIC_ROOT: broker.topicRoot,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    STATUS_PORT: '0',
    TENSORRT_ENGINE_CACHE_DIR: join(dataDir, 'engines'),
    OUTBOX_DIR: join(dataDir, 'outbox'),
    DEVICE_CREDENTIALS_FILE: join(dataDir, 'credentials.json'),
    MODELS_DIR: join(dataDir, 'models'),
    REGISTRY_KEYS_FILE: join(dataDir, 'registry-keys.json'),
    WARMUP_RUNS: '1',
    ...env,
  });
  const agent = await startAgent(config, pino({ level: 'silent' }));
  const client = new InspectServiceClient(agent.grpcAddress, credentials.createInsecure());
  return {
    agent,
    client,
    config,
    broker: { url: broker.url, topicRoot: broker.topicRoot },
    dataDir,
    stop: async () => {
      client.close();
      await agent.stop();
      await broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
