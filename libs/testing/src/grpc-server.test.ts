import { Client, credentials, status as GrpcStatus, type ServiceError, type sendUnaryData } from '@grpc/grpc-js';
import { DESCRIPTOR_SET_BASE64, ModelRegistryServiceService, type ListModelsResponse } from '@loupe/proto';
import { startGrpcServer, type GrpcServer } from '@loupe/service';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverViaReflection } from './grpc-reflection-client';

// startGrpcServer (libs/shared/service) tested here with generic clients: libs/testing already depends on libs/shared/service, not the other way.
const REGISTRY = 'loupe.v1.ModelRegistryService';
const identity = (bytes: Buffer) => bytes;

describe('startGrpcServer', () => {
  let server: GrpcServer;
  let client: Client;
  let listed = 0;

  beforeAll(async () => {
    server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      portSetting: 'GRPC_PORT',
      maxReceiveBytes: 1024 * 1024,
      services: [
        {
          name: REGISTRY,
          definition: ModelRegistryServiceService,
          implementation: {
            listModels: (_call: unknown, callback: sendUnaryData<ListModelsResponse>) => {
              listed++;
              callback(null, { models: [] });
            },
            pushModel: (call: { resume(): void; on(event: 'end', listener: () => void): void }, callback: sendUnaryData<unknown>) => {
              call.on('end', () => callback({ code: GrpcStatus.UNIMPLEMENTED }));
              call.resume();
            },
          },
        },
      ],
      descriptorSetBase64: DESCRIPTOR_SET_BASE64,
      serving: true,
    });
    client = new Client(server.address, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await server?.stop(1000);
  });

  /** What a client that sends raw bytes, with no idea of the message type, hears back. */
  const sendRaw = (method: string, bytes: Buffer) =>
    new Promise<{ code: GrpcStatus; details: string }>((resolve) =>
      client.makeUnaryRequest(`/${REGISTRY}/${method}`, identity, identity, bytes, (error: ServiceError | null) =>
        resolve({ code: error?.code ?? GrpcStatus.OK, details: error?.details ?? '' }),
      ),
    );

  const pushRaw = (bytes: Buffer) =>
    new Promise<{ code: GrpcStatus; details: string }>((resolve) => {
      const call = client.makeClientStreamRequest(`/${REGISTRY}/PushModel`, identity, identity, (error: ServiceError | null) =>
        resolve({ code: error?.code ?? GrpcStatus.OK, details: error?.details ?? '' }),
      );
      call.write(bytes);
      call.end();
    });

  it('lists in reflection exactly the services it serves, with health and reflection', async () => {
    const discovered = await discoverViaReflection(server.address);
    try {
      expect(discovered.services.sort()).toEqual(
        [REGISTRY, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'].sort(),
      );
      // The embedded descriptors hold every loupe service; one this server does not serve is not there to find.
      await expect(discovered.clientFor('loupe.v1.InspectService')).rejects.toThrow(/not found/i);
      await expect(discovered.clientFor(REGISTRY)).resolves.toBeTypeOf('function');
    } finally {
      discovered.close();
    }
  });

  it('answers a message that is not the request type with INVALID_ARGUMENT, unary or streamed, and keeps serving', async () => {
    expect(await sendRaw('ListModels', Buffer.from([0x0a, 0xff]))).toEqual({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: expect.stringMatching(/^the message is not a valid request for \/loupe.v1.ModelRegistryService\/ListModels \(.+\)$/) as string,
    });
    expect(await pushRaw(Buffer.from([0x07]))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringMatching(/PushModel/) as string });
    expect(await sendRaw('ListModels', Buffer.alloc(0))).toEqual({ code: GrpcStatus.OK, details: '' });
  });

  it('refuses such a message the same way on the health service it adds', async () => {
    const answer = await new Promise<{ code: GrpcStatus; details: string }>((resolve) =>
      client.makeUnaryRequest('/grpc.health.v1.Health/Check', identity, identity, Buffer.from([0x0a, 0xff]), (error: ServiceError | null) =>
        resolve({ code: error?.code ?? GrpcStatus.OK, details: error?.details ?? '' }),
      ),
    );
    expect(answer).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringMatching(/grpc.health.v1.Health\/Check/) as string });
  });

  it('never answers INTERNAL for bytes it cannot read', async () => {
    const before = listed;
    let decoded = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
        const { code } = await sendRaw('ListModels', Buffer.from(bytes));
        if (code === GrpcStatus.OK) decoded++;
        else expect(code).toBe(GrpcStatus.INVALID_ARGUMENT);
      }),
      { numRuns: 200 },
    );
    // Every request that decoded reached the handler.
    expect(listed - before).toBe(decoded);
  });
});
