import { Readable } from 'node:stream';
import { status, type Metadata, type ServerErrorResponse, type ServerReadableStream, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { promoteRequestSchema, pushModelQuerySchema, versionNumberSchema } from '@loupe/api-contracts';
import { modelNameSchema } from '@loupe/device-state';
import type {
  DownloadModelResponse,
  GetModelVersionRequest,
  ListModelsResponse,
  ModelRegistryServiceServer,
  ModelVersion as ModelVersionMessage,
  PushHeader,
  PushModelRequest,
  SetAliasRequest,
} from '@loupe/proto';
import { DomainError, grpcErrorOf, REASON_TRAILER } from '@loupe/service';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuthService } from '../auth/auth.service';
import { authorize, sessionToken } from '../auth/authorize';
import type { Role } from '../auth/roles';
import type { User } from '../auth/user.repository';
import { MODEL_ALIASES, type ModelAlias, type ModelRegistry, type ModelVersion, type PushDetails } from './model-registry';

export const MODEL_REGISTRY_SERVICE_NAME = 'loupe.v1.ModelRegistryService';

/** The trailer a refused push carries its reason code in (`hash-mismatch`, `unsigned`, ...). */
export const REFUSAL_TRAILER = REASON_TRAILER;

// Big enough to keep round trips few, small enough to stay under gRPC's default message limit.
const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

const WRITERS: readonly Role[] = ['engineer', 'admin'];
const READERS: readonly Role[] = ['labeler', 'reviewer', 'engineer', 'admin'];

/** A call whose header, chunks or fields break the service's rules. */
class InvalidRegistryCallError extends DomainError {
  readonly kind = 'invalid';
}

class PackageTooLargeError extends DomainError {
  readonly kind = 'too_large';
  constructor(maxPackageBytes: number) {
    super(`the package is larger than REGISTRY_MAX_PACKAGE_BYTES (${maxPackageBytes} bytes)`);
  }
}

/** What each call needs: the registry, who is calling, and the push size limit. */
interface RegistryCalls {
  registry: ModelRegistry;
  caller(metadata: Metadata, allowed: readonly Role[]): Promise<User>;
  maxPackageBytes: number;
}

/**
 * The registry over gRPC, for the CLI and training pipelines: the same
 * ModelRegistry and the same sessions and roles as the REST routes.
 * RegistryGrpcServer serves it for the application's lifetime.
 */
export function modelRegistryService(registry: ModelRegistry, auth: AuthService, maxPackageBytes: number, logger: Logger): ModelRegistryServiceServer {
  const calls: RegistryCalls = {
    registry,
    maxPackageBytes,
    caller: (metadata, allowed) => {
      const authorization = metadata.get('authorization')[0];
      return authorize(auth, sessionToken({ authorization: typeof authorization === 'string' ? authorization : undefined }), allowed);
    },
  };
  const toServiceError = (error: unknown): ServerErrorResponse => {
    if (error instanceof DomainError) return grpcErrorOf(error);
    logger.error({ err: error }, 'model registry call failed');
    return { name: 'InternalError', message: 'the registry failed to answer; the cloud log has the details', code: status.INTERNAL };
  };
  const unary = <T>(work: () => Promise<T>, callback: sendUnaryData<T>) => {
    work().then(
      (value) => callback(null, value),
      (error: unknown) => callback(toServiceError(error)),
    );
  };
  return {
    pushModel: (call, callback) => unary(() => pushModel(calls, call), callback),
    listModels: (call, callback) => unary(() => listModels(calls, call.metadata), callback),
    getModelVersion: (call, callback) =>
      unary(async () => {
        await calls.caller(call.metadata, READERS);
        const { name, version } = versionOf(call.request);
        return toMessage(await registry.show(name, version));
      }, callback),
    downloadModel: (call) => void downloadModel(calls, call).catch((error: unknown) => call.emit('error', toServiceError(error))),
    setAlias: (call, callback) => unary(() => setAlias(calls, call), callback),
  };
}

async function pushModel(calls: RegistryCalls, call: ServerReadableStream<PushModelRequest, ModelVersionMessage>): Promise<ModelVersionMessage> {
  const user = await calls.caller(call.metadata, WRITERS);
  const messages = (call as AsyncIterable<PushModelRequest>)[Symbol.asyncIterator]();
  const first = await messages.next();
  if (first.done || first.value.part?.$case !== 'header') throw outOfOrder();
  const header = first.value.part.value;
  if (header.packageBytes > calls.maxPackageBytes) throw new PackageTooLargeError(calls.maxPackageBytes);
  // The tar is read as its chunks arrive, never held whole.
  return toMessage(await calls.registry.push(Readable.from(packageChunks(messages, calls.maxPackageBytes)), pushDetails(header), user.id));
}

async function listModels(calls: RegistryCalls, metadata: Metadata): Promise<ListModelsResponse> {
  await calls.caller(metadata, READERS);
  const models = await calls.registry.list();
  return {
    models: models.map((model) => ({
      name: model.modelName,
      project: model.project ?? '',
      task: model.task,
      latestVersion: model.latestVersion,
      aliases: model.aliases,
    })),
  };
}

async function downloadModel(calls: RegistryCalls, call: ServerWritableStream<GetModelVersionRequest, DownloadModelResponse>): Promise<void> {
  await calls.caller(call.metadata, WRITERS);
  const { name, version } = versionOf(call.request);
  const { stream, bytes, sha256 } = await calls.registry.openPackage(name, version);
  call.write({ part: { $case: 'header', value: { packageBytes: bytes, sha256 } } });
  for await (const chunk of stream.iterator({ destroyOnReturn: true })) {
    for (let offset = 0; offset < (chunk as Buffer).length; offset += DOWNLOAD_CHUNK_BYTES) {
      if (!call.write({ part: { $case: 'chunk', value: (chunk as Buffer).subarray(offset, offset + DOWNLOAD_CHUNK_BYTES) } })) {
        await new Promise<void>((resolve) => call.once('drain', () => resolve()));
      }
    }
  }
  call.end();
}

async function setAlias(calls: RegistryCalls, call: ServerUnaryCall<SetAliasRequest, ModelVersionMessage>): Promise<ModelVersionMessage> {
  const user = await calls.caller(call.metadata, WRITERS);
  const { name, version } = versionOf(call.request);
  const { alias, reason } = call.request;
  if (!(MODEL_ALIASES as readonly string[]).includes(alias)) throw new InvalidRegistryCallError(`alias must be one of ${MODEL_ALIASES.join(', ')}`);
  const why = promoteRequestSchema.safeParse({ version, reason });
  if (!why.success) throw invalidArgument(why.error);
  if (reason.trim().length < 3) throw new InvalidRegistryCallError('say why in reason, for the audit trail');
  await calls.registry.promote({ modelName: name, alias: alias as ModelAlias, version, reason, actorId: user.id });
  return toMessage(await calls.registry.show(name, version));
}

/** The chunks after the header; a failure here is the source's own, which unpacking passes on as it is. */
async function* packageChunks(messages: AsyncIterator<PushModelRequest>, maxPackageBytes: number): AsyncGenerator<Buffer> {
  let bytes = 0;
  for (let next = await messages.next(); next.done !== true; next = await messages.next()) {
    const part = next.value.part;
    if (part?.$case !== 'chunk') throw outOfOrder();
    bytes += part.value.length;
    if (bytes > maxPackageBytes) throw new PackageTooLargeError(maxPackageBytes);
    yield Buffer.from(part.value.buffer, part.value.byteOffset, part.value.byteLength);
  }
  if (bytes === 0) throw new InvalidRegistryCallError('the push ended before the package tar was sent');
}

const outOfOrder = () => new InvalidRegistryCallError('send one header first, then the package tar in chunks');

/** The header's details, checked by the same rules as the REST push's query. */
function pushDetails(header: PushHeader): PushDetails {
  const parsed = pushModelQuerySchema.safeParse({
    ...(header.notes ? { notes: header.notes } : {}),
    ...(header.datasetExport ? { datasetExport: header.datasetExport } : {}),
    ...(header.parentVersion > 0 ? { parentVersion: String(header.parentVersion) } : {}),
    ...(Object.keys(header.metrics).length > 0 ? { metrics: JSON.stringify(header.metrics) } : {}),
  });
  if (!parsed.success) throw invalidArgument(parsed.error);
  const { notes, datasetExport, parentVersion, metrics } = parsed.data;
  return {
    ...(notes === undefined ? {} : { notes }),
    ...(datasetExport === undefined ? {} : { datasetExport }),
    ...(parentVersion === undefined ? {} : { parentVersion }),
    ...(metrics === undefined ? {} : { metrics }),
  };
}

function invalidArgument(error: z.ZodError): InvalidRegistryCallError {
  return new InvalidRegistryCallError(error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; '));
}

/** A model name and version as a request names them, checked before they reach a query. */
function versionOf(request: { name: string; version: number }): { name: string; version: number } {
  const parsed = z.object({ name: modelNameSchema, version: versionNumberSchema }).safeParse(request);
  if (!parsed.success) throw invalidArgument(parsed.error);
  return parsed.data;
}

function toMessage(version: ModelVersion): ModelVersionMessage {
  return {
    name: version.modelName,
    version: version.version,
    task: version.task,
    sha256: version.packageSha256,
    packageBytes: version.packageBytes,
    aliases: version.aliases,
    author: version.author,
    notes: version.notes,
    createdAt: version.createdAt,
    metrics: version.metrics,
    datasetExport: version.datasetExport ?? '',
    parentVersion: version.parentVersion ?? 0,
    keyId: version.manifest.signature?.keyId ?? '',
    validationJson: JSON.stringify(version.validation),
  };
}
