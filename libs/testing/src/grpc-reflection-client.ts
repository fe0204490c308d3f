import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

interface ReflectionStream {
  write(request: Record<string, string>): void;
  on(event: 'data', listener: (response: ReflectionResponse) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  end(): void;
}

/**
 * A gRPC client that knows nothing but a server's address: it lists the
 * services through server reflection (grpc.reflection.v1) and builds a
 * client from the descriptors the server sends, as grpcurl does.
 */
export async function discoverViaReflection(address: string): Promise<{
  services: string[];
  clientFor(service: string): Promise<ServiceClientConstructor>;
  close(): void;
}> {
  const reflectionProto = join(
    dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const reflection = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
  };
  const client = new reflection.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  const stream = (client as unknown as { ServerReflectionInfo(): ReflectionStream }).ServerReflectionInfo();
  const waiting: ((response: ReflectionResponse) => void)[] = [];
  stream.on('data', (response) => waiting.shift()?.(response));
  stream.on('error', () => undefined);
  const ask = (request: Record<string, string>) =>
    new Promise<ReflectionResponse>((resolve) => {
      waiting.push(resolve);
      stream.write(request);
    });

  const listed = await ask({ list_services: '' });
  const services = (listed.list_services_response?.service ?? []).map((service) => service.name);
  return {
    services,
    clientFor: async (service) => {
      const answer = await ask({ file_containing_symbol: service });
      if (answer.error_response) throw new Error(`reflection: ${answer.error_response.error_message}`);
      const files = answer.file_descriptor_response?.file_descriptor_proto ?? [];
      // A FileDescriptorSet is field 1 (length-delimited) repeated.
      const set = Buffer.concat(files.flatMap((file) => [Buffer.from([0x0a]), varint(file.length), file]));
      let node: GrpcObject | ServiceClientConstructor = loadPackageDefinition(loadFileDescriptorSetFromBuffer(set));
      for (const part of service.split('.')) node = (node as GrpcObject)[part] as GrpcObject | ServiceClientConstructor;
      return node as ServiceClientConstructor;
    },
    close: () => {
      stream.end();
      client.close();
    },
  };
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
