import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';

export interface GrpcServer {
  /** `host:port` it listens on. */
  address: string;
  /** SERVING or NOT_SERVING for the whole server ('') and each named service. */
  setServing(serving: boolean): void;
  /** Lets calls in progress finish for up to `graceMs`, then cuts the rest. */
  stop(graceMs: number): Promise<void>;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  /** The setting that chose the port, named when the port is taken. */
  portSetting: string;
  maxReceiveBytes: number;
  services: { name: string; definition: ServiceDefinition; implementation: UntypedServiceImplementation }[];
  /** The services' protobuf descriptors (a FileDescriptorSet, base64), for reflection. */
  descriptorSetBase64: string;
  serving: boolean;
}

/**
 * A gRPC server with the standard health service (grpc.health.v1) and
 * server reflection beside its own services, so grpcurl, Postman or any
 * reflection client can list and call them without our .proto files.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const server = new Server({ 'grpc.max_receive_message_length': options.maxReceiveBytes });
  for (const service of options.services) server.addService(service.definition, service.implementation);

  const initial = options.serving ? 'SERVING' : 'NOT_SERVING';
  const health = new HealthImplementation(Object.fromEntries(['', ...options.services.map((service) => service.name)].map((name) => [name, initial])));
  health.addToServer(server);
  const descriptors = {
    ...loadFileDescriptorSetFromBuffer(Buffer.from(options.descriptorSetBase64, 'base64')),
    ...loadSync(healthProtoPath),
  };
  new ReflectionService(descriptors).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) => {
      if (error) {
        reject(
          /EADDRINUSE|address already in use/i.test(error.message)
            ? new Error(`${options.portSetting} ${options.port} is taken on ${options.host}; set ${options.portSetting} to a free port`)
            : error,
        );
      } else {
        resolve(bound);
      }
    }),
  );

  return {
    address: `${options.host}:${port}`,
    setServing: (serving) => {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      for (const service of options.services) health.setStatus(service.name, status);
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
