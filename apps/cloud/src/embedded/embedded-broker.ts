import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBroker {
  url: string;
  stop(): Promise<void>;
}

/**
 * An MQTT broker inside the cloud process, for one machine. Aedes speaks
 * MQTT 3.1.1 only: clients fall back from MQTT 5, and shared subscriptions
 * are not needed because this process is the only consumer. It keeps
 * sessions and retained messages in memory.
 */
export async function startEmbeddedBroker(options: { host: string; port: number }, logger: Logger): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `EMBEDDED_MQTT_PORT ${options.port} is taken on ${options.host}; set EMBEDDED_MQTT_PORT to a free port, or MQTT_URL to use that broker`,
            )
          : error,
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `mqtt://${options.host}:${port}`;
  logger.info({ url }, 'embedded MQTT broker (Aedes) started');
  return {
    url,
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
