import { Controller, Get, Inject, NotFoundException, Param, ParseUUIDPipe, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Allow, ANY_ROLE } from '../auth/roles';
import type { BlobStore } from '../blobs/blob-store';
import type { Database } from '../database/database';
import { ApiRoute } from '../http/api-route';
import { BLOB_STORE, DATABASE } from '../infrastructure.tokens';

@Controller('api/samples/:id/image')
export class SampleImageController {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  @Get()
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: "A sample's image, as the device sent it." })
  async image(@Param('id', ParseUUIDPipe) id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    const { rows } = await this.db.pool.query<{ image_key: string; image_media_type: string }>(
      'SELECT image_key, image_media_type FROM samples WHERE id = $1',
      [id],
    );
    const image = rows[0] && (await this.blobs.get(rows[0].image_key));
    if (!rows[0] || !image) throw new NotFoundException(`no image for sample ${id}`);
    // Stored under a write-once key: the bytes never change.
    void reply.header('content-type', rows[0].image_media_type).header('cache-control', 'private, max-age=31536000, immutable');
    return image;
  }
}
