import { Metadata, status, type ServerErrorResponse, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { PackageRefusedError } from '@loupe/model-package';
import type { DownloadModelResponse, GetModelVersionRequest, ModelRegistryServiceServer, ModelVersion as ModelVersionMessage, PushHeader, PushModelRequest } from '@loupe/proto';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/auth.service';
import type { Role } from '../auth/roles';
import type { User } from '../auth/user.repository';
import { MODEL_ALIASES, ModelVersionNotFoundError, type ModelAlias, type ModelRegistry, type ModelVersion, type PushDetails } from './model-registry';
import { ModelRefusedError } from './package-validation';

export const MODEL_REGISTRY_SERVICE_NAME = 'loupe.v1.ModelRegistryService';

/** The trailer a refused push carries its reason code in (`hash-mismatch`, `unsigned`, ...). */
export const REFUSAL_TRAILER = 'loupe-refusal';

// Big enough to keep round trips few, small enough to stay under gRPC's default message limit.
const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

const WRITERS: readonly Role[] = ['engineer', 'admin'];
const READERS: readonly Role[] = ['labeler', 'reviewer', 'engineer', 'admin'];

class GrpcRefusal extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly metadata?: Metadata,
  ) {
    super(message);
  }
}

/**
 * The registry over gRPC, for the CLI and training pipelines: the same
 * ModelRegistry and the same sessions and roles as the REST routes.
 */
export function modelRegistryService(registry: ModelRegistry, auth: AuthService, maxPackageBytes: number, logger: Logger): ModelRegistryServiceServer {
  const caller = async (metadata: Metadata, allowed: readonly Role[]): Promise<User> => {
    const header = String(metadata.get('authorization')[0] ?? '');
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!token) throw new GrpcRefusal(status.UNAUTHENTICATED, 'send authorization: Bearer <session token> metadata (POST /api/auth/login gives one)');
    const user = await auth.authenticate(token);
    if (!user) throw new GrpcRefusal(status.UNAUTHENTICATED, 'your session has expired or was ended; sign in again');
    if (!allowed.includes(user.role)) throw new GrpcRefusal(status.PERMISSION_DENIED, `this needs the role ${allowed.join(' or ')}; you are ${user.role}`);
    return user;
  };

  const toServiceError = (error: unknown): ServerErrorResponse => {
    if (error instanceof GrpcRefusal) return { name: 'GrpcRefusal', message: error.message, code: error.code, details: error.message, ...(error.metadata ? { metadata: error.metadata } : {}) };
    if (error instanceof PackageRefusedError || error instanceof ModelRefusedError) {
      const metadata = new Metadata();
      metadata.set(REFUSAL_TRAILER, error.reason);
      return { name: error.name, message: error.message, code: status.FAILED_PRECONDITION, details: error.message, metadata };
    }
    if (error instanceof ModelVersionNotFoundError) return { name: error.name, message: error.message, code: status.NOT_FOUND, details: error.message };
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
    pushModel(call, callback) {
      unary(async () => {
        const user = await caller(call.metadata, WRITERS);
        let header: PushHeader | undefined;
        const chunks: Buffer[] = [];
        let bytes = 0;
        for await (const message of call as AsyncIterable<PushModelRequest>) {
          if (message.part?.$case === 'header' && header === undefined && chunks.length === 0) {
            header = message.part.value;
            if (header.packageBytes > maxPackageBytes) throw tooLarge(maxPackageBytes);
          } else if (message.part?.$case === 'chunk' && header !== undefined) {
            bytes += message.part.value.length;
            if (bytes > maxPackageBytes) throw tooLarge(maxPackageBytes);
            chunks.push(message.part.value);
          } else {
            throw new GrpcRefusal(status.INVALID_ARGUMENT, 'send one header first, then the package tar in chunks');
          }
        }
        if (!header || bytes === 0) throw new GrpcRefusal(status.INVALID_ARGUMENT, 'the push ended before the package tar was sent');
        return toMessage(await registry.push(Buffer.concat(chunks), pushDetails(header), user.id));
      }, callback);
    },

    listModels(call, callback) {
      unary(async () => {
        await caller(call.metadata, READERS);
        const models = await registry.list();
        return {
          models: models.map((model) => ({
            name: model.modelName,
            project: model.project ?? '',
            task: model.task,
            latestVersion: model.latestVersion,
            aliases: model.aliases,
          })),
        };
      }, callback);
    },

    getModelVersion(call, callback) {
      unary(async () => {
        await caller(call.metadata, READERS);
        return toMessage(await registry.show(call.request.name, call.request.version));
      }, callback);
    },

    downloadModel(call: ServerWritableStream<GetModelVersionRequest, DownloadModelResponse>) {
      void (async () => {
        await caller(call.metadata, WRITERS);
        const { stream, bytes, sha256 } = await registry.openPackage(call.request.name, call.request.version);
        call.write({ part: { $case: 'header', value: { packageBytes: bytes, sha256 } } });
        for await (const chunk of stream.iterator({ destroyOnReturn: true })) {
          for (let offset = 0; offset < (chunk as Buffer).length; offset += DOWNLOAD_CHUNK_BYTES) {
            if (!call.write({ part: { $case: 'chunk', value: (chunk as Buffer).subarray(offset, offset + DOWNLOAD_CHUNK_BYTES) } })) {
              await new Promise<void>((resolve) => call.once('drain', () => resolve()));
            }
          }
        }
        call.end();
      })().catch((error: unknown) => call.emit('error', toServiceError(error)));
    },

    setAlias(call, callback) {
      unary(async () => {
        const user = await caller(call.metadata, WRITERS);
        const { name, version, alias, reason } = call.request;
        if (!(MODEL_ALIASES as readonly string[]).includes(alias)) throw new GrpcRefusal(status.INVALID_ARGUMENT, `alias must be one of ${MODEL_ALIASES.join(', ')}`);
        if (reason.trim().length < 3) throw new GrpcRefusal(status.INVALID_ARGUMENT, 'say why in reason, for the audit trail');
        await registry.promote({ modelName: name, alias: alias as ModelAlias, version, reason, actorId: user.id });
        return toMessage(await registry.show(name, version));
      }, callback);
    },
  };
}

function tooLarge(maxPackageBytes: number): GrpcRefusal {
  return new GrpcRefusal(status.RESOURCE_EXHAUSTED, `the package is larger than REGISTRY_MAX_PACKAGE_BYTES (${maxPackageBytes} bytes)`);
}

function pushDetails(header: PushHeader): PushDetails {
  return {
    ...(header.notes ? { notes: header.notes } : {}),
    ...(header.datasetExport ? { datasetExport: header.datasetExport } : {}),
    ...(header.parentVersion > 0 ? { parentVersion: header.parentVersion } : {}),
    ...(Object.keys(header.metrics).length > 0 ? { metrics: header.metrics } : {}),
  };
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
