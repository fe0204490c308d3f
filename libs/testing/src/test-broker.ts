import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { uniqueName } from './unique-name';

export interface TestBroker {
  url: string;
  /** `external` when `MQTT_URL` named a broker, `aedes` otherwise. */
  kind: 'external' | 'aedes';
  /**
   * A topic root no other test uses. Tests on a shared broker see each
   * other's messages unless every topic starts with their own root.
   */
  topicRoot: string;
  stop(): Promise<void>;
}

/**
 * An MQTT broker for one test file: the one at `MQTT_URL`, or an Aedes broker
 * on a loopback port. Aedes speaks MQTT 3.1.1 only, so clients must be able
 * to fall back from MQTT 5.
 */
export async function startTestBroker(env: NodeJS.ProcessEnv = process.env): Promise<TestBroker> {
  const topicRoot = `test/${uniqueName('run')}/loupe/v1`;
  const external = env.MQTT_URL;
  if (external) return { url: external, kind: 'external', topicRoot, stop: () => Promise.resolve() };

  const broker = await Aedes.createBroker();
  const server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'aedes',
    topicRoot,
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
