import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import {
  Metadata,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  status as GrpcStatus,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
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
  /** Protobuf descriptors (a FileDescriptorSet, base64) that hold the services'; reflection shows only what they need. */
  descriptorSetBase64: string;
  serving: boolean;
}

const HEALTH_SERVICE = 'grpc.health.v1.Health';
const REFLECTION_SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/**
 * A gRPC server with the standard health service (grpc.health.v1) and
 * server reflection beside its own services, so grpcurl, Postman or any
 * reflection client can list and call them without our .proto files.
 * Reflection lists exactly what this server serves, and a message that is
 * not a valid request gets INVALID_ARGUMENT, not grpc-js's INTERNAL.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const server = new Server({ 'grpc.max_receive_message_length': options.maxReceiveBytes, interceptors: [refuseUndecodable] });
  // Health and reflection too: every service on the server refuses bytes it cannot read the same way.
  const tolerant = {
    addService: (definition: ServiceDefinition, implementation: UntypedServiceImplementation) =>
      server.addService(tolerantDeserializers(definition), implementation),
  };
  for (const service of options.services) tolerant.addService(service.definition, service.implementation);

  const initial = options.serving ? 'SERVING' : 'NOT_SERVING';
  const health = new HealthImplementation(Object.fromEntries(['', ...options.services.map((service) => service.name)].map((name) => [name, initial])));
  health.addToServer(tolerant);
  const served = options.services.map((service) => service.name);
  const descriptors = {
    ...loadFileDescriptorSetFromBuffer(descriptorsFor(served, Buffer.from(options.descriptorSetBase64, 'base64'))),
    ...loadSync([healthProtoPath, ...reflectionProtoPaths()]),
  };
  new ReflectionService(descriptors, { services: [...served, HEALTH_SERVICE, ...REFLECTION_SERVICES] }).addToServer(tolerant);

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

/**
 * Only the files that declare the served services and what they import:
 * the embedded set holds every loupe service, and a client that asks
 * reflection for one this process does not serve should hear NOT_FOUND.
 */
function descriptorsFor(services: string[], descriptorSet: Buffer): Buffer {
  const { file: files } = fromBinary(FileDescriptorSetSchema, descriptorSet);
  const byName = new Map(files.map((file) => [file.name, file]));
  const declares = (file: FileDescriptorProto) => file.service.some((service) => services.includes(`${file.package}.${service.name}`));
  const kept = new Set<string>();
  const keep = (name: string) => {
    if (kept.has(name)) return;
    kept.add(name);
    for (const dependency of byName.get(name)?.dependency ?? []) keep(dependency);
  };
  for (const file of files) if (declares(file)) keep(file.name);
  return Buffer.from(toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files.filter((file) => kept.has(file.name)) })));
}

/** Reflection describes itself too, as grpcurl expects of a server that offers it. */
function reflectionProtoPaths(): string[] {
  const root = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection');
  return [join(root, 'v1/reflection.proto'), join(root, 'v1alpha/reflection.proto')];
}

/** What a request deserializer could not read, carried to refuseUndecodable instead of thrown. */
class UndecodableMessage {
  constructor(readonly reason: string) {}
}

/** grpc-js answers a deserializer that throws with INTERNAL, which says the server failed; it did not. */
function tolerantDeserializers(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            return method.requestDeserialize(bytes);
          } catch (error) {
            return new UndecodableMessage(error instanceof Error ? error.message : String(error));
          }
        },
      },
    ]),
  );
}

/** Ends a call whose message is not its method's request type with INVALID_ARGUMENT and why. */
const refuseUndecodable: ServerInterceptor = (method, call) =>
  new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: unknown, pass) => {
          if (!(message instanceof UndecodableMessage)) return pass(message);
          call.sendStatus({
            code: GrpcStatus.INVALID_ARGUMENT,
            details: `the message is not a valid request for ${method.path} (${message.reason})`,
            metadata: new Metadata(),
          });
        },
      }),
  });
