import type { ServiceDefinition } from '@grpc/grpc-js';
import { DESCRIPTOR_SET_BASE64, InspectServiceService } from '@loupe/proto';
import { startGrpcServer, type GrpcServer } from '@loupe/service';
import type { Logger } from 'pino';
import { receiveInspectRequest } from './inspect-request-decoding';
import type { InspectHandlers } from './inspect.handlers';

/** The name stations (and load balancers) ask the health service about. */
export const INSPECT_SERVICE_NAME = 'loupe.v1.InspectService';

/**
 * A whole request: the image, its ids and at most 16 KiB of metadata. A
 * JPEG of MAX_IMAGE_PIXELS' 50 MP fits, a PNG as far as it compresses; an
 * uncompressed BMP or TIFF fits up to about 22 MP (3 bytes a pixel), and
 * gRPC refuses a larger message with RESOURCE_EXHAUSTED before the agent
 * sees it. Issue #21 reviews the limit.
 */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** InspectService with a deserializer that never throws: what cannot be read is refused per request (see receiveInspectRequest). */
const INSPECT_SERVICE: ServiceDefinition = {
  inspect: { ...InspectServiceService.inspect, requestDeserialize: receiveInspectRequest },
  inspectStream: { ...InspectServiceService.inspectStream, requestDeserialize: receiveInspectRequest },
};

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
    maxReceiveBytes: MAX_REQUEST_BYTES,
    services: [{ name: INSPECT_SERVICE_NAME, definition: INSPECT_SERVICE, implementation: handlers.service() }],
    descriptorSetBase64: DESCRIPTOR_SET_BASE64,
    // NOT_SERVING until a model is active.
    serving: false,
  });
  logger.info({ component: 'inspect', address: server.address }, 'Inspect gRPC API listening');
  return server;
}
