import { Controller, Get, Inject, NotFoundException, Param, ParseUUIDPipe, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Allow, ANY_ROLE } from '../auth/roles';
import type { BlobStore } from '../blobs/blob-store';
import { ApiRoute } from '../http/api-route';
import { BLOB_STORE } from '../infrastructure.tokens';
import { SampleRepository } from './sample.repository';

@Controller('api/samples/:id/image')
export class SampleImageController {
  constructor(
    @Inject(SampleRepository) private readonly samples: SampleRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  @Get()
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: "A sample's image, as the device sent it." })
  async image(@Param('id', ParseUUIDPipe) id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    const stored = await this.samples.imageOf(id);
    const image = stored && (await this.blobs.get(stored.key));
    if (!stored || !image) throw new NotFoundException(`no image for sample ${id}`);
    // Stored under a write-once key: the bytes never change.
    void reply.header('content-type', stored.mediaType).header('cache-control', 'private, max-age=31536000, immutable');
    return image;
  }
}
