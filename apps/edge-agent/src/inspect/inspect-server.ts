import { DESCRIPTOR_SET_BASE64, InspectServiceService } from '@loupe/proto';
import { startGrpcServer, type GrpcServer } from '@loupe/service';
import type { Logger } from 'pino';
import type { InspectHandlers } from './inspect.handlers';

/** The name stations (and load balancers) ask the health service about. */
export const INSPECT_SERVICE_NAME = 'loupe.v1.InspectService';

export type InspectServer = GrpcServer;

/** The agent's gRPC server: Inspect, with health checking and reflection. */
export async function startInspectServer(
  options: { host: string; port: number },
  handlers: InspectHandlers,
  logger: Logger,
): Promise<InspectServer> {
  const server = await startGrpcServer({
    ...options,
    portSetting: 'GRPC_PORT',
    maxReceiveBytes: 64 * 1024 * 1024,
    services: [{ name: INSPECT_SERVICE_NAME, definition: InspectServiceService, implementation: handlers.service() }],
    descriptorSetBase64: DESCRIPTOR_SET_BASE64,
    // NOT_SERVING until a model is active.
    serving: false,
  });
  logger.info({ component: 'inspect', address: server.address }, 'Inspect gRPC API listening');
  return server;
}
