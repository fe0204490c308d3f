import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ModelRegistryServiceClient, type DownloadModelResponse, type ListModelsResponse, type ModelVersion, type PushHeader } from '@loupe/proto';
import { DOMAIN_ERROR_KINDS, grpcStatusOf, REASON_TRAILER } from '@loupe/service';
import { CloudFailedError, CloudRefusedError } from '../cloud/cloud.errors';

export const DEFAULT_REGISTRY = '127.0.0.1:50052';
const CHUNK_BYTES = 256 * 1024;

// The caller asked for something the registry will not do: the status of every DomainError kind
// but the cloud's own unavailability. Anything else is a failure to get an answer.
const REFUSALS = new Set(DOMAIN_ERROR_KINDS.filter((kind) => kind !== 'unavailable' && kind !== 'deadline').map(grpcStatusOf));

/** The cloud's ModelRegistry gRPC service, as the CLI uses it; errors become CloudRefusedError or CloudFailedError. */
export class RegistryClient {
  private readonly client: ModelRegistryServiceClient;

  constructor(
    private readonly address: string,
    private readonly token: string | undefined,
  ) {
    this.client = new ModelRegistryServiceClient(address, credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  /** Sends the header, then the tar in chunks, reporting bytes sent. */
  push(tar: Buffer, header: Omit<PushHeader, 'packageBytes'>, progress: (sent: number) => void): Promise<ModelVersion> {
    return new Promise((resolve, reject) => {
      const call = this.client.pushModel(this.metadata(), (error, version) => (error ? reject(this.translate(error)) : resolve(version)));
      call.write({ part: { $case: 'header', value: { ...header, packageBytes: tar.length } } });
      let offset = 0;
      const sendMore = () => {
        while (offset < tar.length) {
          const chunk = tar.subarray(offset, offset + CHUNK_BYTES);
          offset += chunk.length;
          progress(offset);
          if (!call.write({ part: { $case: 'chunk', value: chunk } })) return void call.once('drain', sendMore);
        }
        call.end();
      };
      sendMore();
    });
  }

  list(): Promise<ListModelsResponse> {
    return new Promise((resolve, reject) => this.client.listModels({}, this.metadata(), (error, response) => (error ? reject(this.translate(error)) : resolve(response))));
  }

  show(name: string, version: number): Promise<ModelVersion> {
    return new Promise((resolve, reject) =>
      this.client.getModelVersion({ name, version }, this.metadata(), (error, response) => (error ? reject(this.translate(error)) : resolve(response))),
    );
  }

  setAlias(request: { name: string; version: number; alias: string; reason: string }): Promise<ModelVersion> {
    return new Promise((resolve, reject) => this.client.setAlias(request, this.metadata(), (error, response) => (error ? reject(this.translate(error)) : resolve(response))));
  }

  /** The package's chunks as they arrive; the first call to `onHeader` gives its size and SHA-256. */
  download(name: string, version: number, onHeader: (header: { packageBytes: number; sha256: string }) => void, onChunk: (chunk: Buffer) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.client.downloadModel({ name, version }, this.metadata());
      stream.on('data', (part: DownloadModelResponse) => {
        if (part.part?.$case === 'header') onHeader(part.part.value);
        else if (part.part?.$case === 'chunk') onChunk(part.part.value);
      });
      stream.on('error', (error: ServiceError) => reject(this.translate(error)));
      stream.on('end', () => resolve());
    });
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.token) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  private translate(error: ServiceError): Error {
    const reason = error.metadata?.get(REASON_TRAILER)[0];
    if (REFUSALS.has(error.code)) return new CloudRefusedError(`the registry refused: ${error.details}${reason ? ` (${String(reason)})` : ''}`);
    if (error.code === status.UNAVAILABLE) {
      return new CloudFailedError(`cannot reach the model registry at ${this.address}: ${error.details}; is the cloud running (npm start)? set LOUPE_REGISTRY or --registry`);
    }
    return new CloudFailedError(`the model registry at ${this.address} failed: ${error.details}`);
  }
}
