import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { DESCRIPTOR_SET_BASE64, InspectServiceService } from '@loupe/proto';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { InspectHandlers } from './inspect.handlers';

/** The name stations (and load balancers) ask the health service about. */
export const INSPECT_SERVICE_NAME = 'loupe.v1.InspectService';

export interface InspectServer {
  /** `host:port` it listens on. */
  address: string;
  /** SERVING once a model is active; NOT_SERVING before and while none is. */
  setServing(serving: boolean): void;
  /** Lets calls in progress finish for up to `graceMs`, then cuts the rest. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The agent's gRPC server: Inspect, the standard health service
 * (grpc.health.v1) and server reflection, so grpcurl, Postman or any
 * reflection client can list and call Inspect without our .proto files.
 */
export async function startInspectServer(
  options: { host: string; port: number },
  handlers: InspectHandlers,
  logger: Logger,
): Promise<InspectServer> {
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(InspectServiceService, handlers.service());

  const health = new HealthImplementation({ '': 'NOT_SERVING', [INSPECT_SERVICE_NAME]: 'NOT_SERVING' });
  health.addToServer(server);

  const descriptors = {
    ...loadFileDescriptorSetFromBuffer(Buffer.from(DESCRIPTOR_SET_BASE64, 'base64')),
    ...loadSync(healthProtoPath),
  };
  new ReflectionService(descriptors).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) => {
      if (error) {
        reject(
          /EADDRINUSE|address already in use/i.test(error.message)
            ? new Error(`GRPC_PORT ${options.port} is taken on ${options.host}; set GRPC_PORT to a free port`)
            : error,
        );
      } else {
        resolve(bound);
      }
    }),
  );
  const address = `${options.host}:${port}`;
  logger.info({ component: 'inspect', address }, 'Inspect gRPC API listening');

  return {
    address,
    setServing: (serving) => {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      health.setStatus(INSPECT_SERVICE_NAME, status);
    },
    stop: (graceMs) =>
      new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(deadline);
          resolve();
        });
      }),
  };
}
