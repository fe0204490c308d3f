import { versionNumberTextSchema } from '@loupe/api-contracts';
import { modelNameSchema } from '@loupe/device-state';
import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiRoute, validParam } from '../../http/api-route';
import { ModelRegistry } from '../../registry/model-registry';
import { DeviceRoute, type DeviceRequest } from '../identity/device-route';
import { requestedRange } from './byte-range';

// Long enough for a slow site link to fetch a model, short enough that a leaked URL soon stops working.
const PRESIGNED_URL_SECONDS = 15 * 60;

/** Model packages for enrolled devices, resumable, so a box on a poor link gets there in pieces. */
@Controller('api/fleet/packages')
export class DevicePackagesController {
  constructor(@Inject(ModelRegistry) private readonly registry: ModelRegistry) {}

  @Get(':name/:version')
  @DeviceRoute()
  @ApiRoute({
    summary:
      "A model package for a device, signed in with its broker user name and secret (HTTP Basic). The ETag is the package's SHA-256; " +
      '`Range: bytes=N-` resumes a cut download (206 with Content-Range; with If-Range only while the ETag matches). On S3, a 307 to a ' +
      'presigned URL valid 15 minutes, which honours Range itself.',
  })
  async download(
    @Param('name', validParam(modelNameSchema)) name: string,
    @Param('version', validParam(versionNumberTextSchema)) version: number,
    @Req() request: DeviceRequest,
    @Res() reply: FastifyReply,
  ) {
    const download = await this.registry.packageDownload(name, version, PRESIGNED_URL_SECONDS);
    if ('url' in download) return reply.redirect(download.url, 307);
    const { bytes, sha256 } = download;
    const etag = `"${sha256}"`;
    const ifRange = request.headers['if-range'];
    const range = requestedRange(request.headers.range, typeof ifRange === 'string' ? ifRange : undefined, etag, bytes);
    void reply.header('accept-ranges', 'bytes').header('etag', etag).header('content-type', 'application/x-tar');
    if (range.kind === 'unsatisfiable') {
      return reply.status(416).header('content-range', `bytes */${bytes}`).send();
    }
    const start = range.kind === 'from' ? range.start : 0;
    const stream = await download.open(start);
    if (range.kind === 'from') void reply.status(206).header('content-range', `bytes ${start}-${bytes - 1}/${bytes}`);
    return reply.header('content-length', String(bytes - start)).send(stream);
  }
}
