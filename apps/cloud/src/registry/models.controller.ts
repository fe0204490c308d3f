import { Readable } from 'node:stream';
import {
  aliasHistoryResponseSchema,
  MODEL_ALIAS_NAMES,
  modelListResponseSchema,
  modelVersionSchema,
  promoteRequestSchema,
  promoteResponseSchema,
  pushModelQuerySchema,
  registryKeysResponseSchema,
  versionNumberTextSchema,
  type ModelVersionDto,
} from '@loupe/api-contracts';
import { modelNameSchema } from '@loupe/device-state';
import { publicKeyToPem } from '@loupe/model-package';
import { BadRequestException, Body, UnsupportedMediaTypeException, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Allow, ANY_ROLE, Public } from '../auth/roles';
import type { SignedInRequest } from '../auth/session.guard';
import { ApiRoute, parseBody, validParam } from '../http/api-route';
import { StreamedBody } from '../http/streamed-body';
import { ModelRegistry, type ModelAlias, type ModelVersion } from './model-registry';
import { REGISTRY_KEYS } from '../infrastructure.tokens';
import type { RegistryKeys } from './registry-keys';

// Long enough for a slow site link to fetch a model, short enough that a leaked URL soon stops working.
const PRESIGNED_URL_SECONDS = 15 * 60;

const toDto = (version: ModelVersion): ModelVersionDto => ({ ...version, createdAt: version.createdAt.toISOString() });

/** The model registry for people and pipelines: push, list, show, download, promote. */
@Controller('api')
export class ModelsController {
  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(REGISTRY_KEYS) private readonly keys: RegistryKeys,
  ) {}

  @Post('models')
  @Allow('engineer', 'admin')
  @StreamedBody()
  @ApiRoute({
    summary:
      'Push a model package (the tar as the body, content-type application/x-tar), signed by a publisher key. It is validated ' +
      '(signature, hashes, loads in onnxruntime, golden samples), numbered, signed by the registry and stored; a refusal (422) ' +
      'names its reason in `error` and stores nothing. Query: notes, datasetExport, parentVersion, metrics (JSON).',
    response: modelVersionSchema,
  })
  async push(@Body() body: unknown, @Query() query: unknown, @Req() request: SignedInRequest): Promise<ModelVersionDto> {
    const { metrics, datasetExport, parentVersion, notes } = parseBody(pushModelQuerySchema, query);
    if (!(body instanceof Readable)) throw new UnsupportedMediaTypeException('send the package tar as the body, with content-type application/x-tar');
    const details = {
      ...(metrics === undefined ? {} : { metrics }),
      ...(datasetExport === undefined ? {} : { datasetExport }),
      ...(parentVersion === undefined ? {} : { parentVersion }),
      ...(notes === undefined ? {} : { notes }),
    };
    return toDto(await this.registry.push(body, details, request.user.id));
  }

  @Get('models')
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: 'Every model in the registry, with its latest version and aliases.', response: modelListResponseSchema })
  async list() {
    return { models: await this.registry.list() };
  }

  @Get('models/:name/versions/:version')
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: 'One version: its signed package manifest, validation, metrics and lineage.', response: modelVersionSchema })
  async show(@Param('name', validParam(modelNameSchema)) name: string, @Param('version', validParam(versionNumberTextSchema)) version: number): Promise<ModelVersionDto> {
    return toDto(await this.registry.show(name, version));
  }

  @Get('models/:name/versions/:version/package')
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary:
      'The signed package tar: on S3, a 307 redirect to a presigned URL valid 15 minutes; on the embedded blob folder, streamed. ' +
      'x-package-sha256 is its SHA-256.',
  })
  async download(@Param('name', validParam(modelNameSchema)) name: string, @Param('version', validParam(versionNumberTextSchema)) version: number, @Res() reply: FastifyReply) {
    const download = await this.registry.packageDownload(name, version, PRESIGNED_URL_SECONDS);
    if ('url' in download) return reply.redirect(download.url, 307);
    const stream = await download.open();
    return reply
      .header('content-type', 'application/x-tar')
      .header('content-length', String(download.bytes))
      .header('content-disposition', `attachment; filename="${name}-${version}.tar"`)
      .header('x-package-sha256', download.sha256)
      .send(stream);
  }

  @Post('models/:name/aliases/:alias')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'Point an alias (candidate, staging, production, archived) at a version, with a reason for the audit trail.', body: promoteRequestSchema, response: promoteResponseSchema })
  async promote(@Param('name', validParam(modelNameSchema)) name: string, @Param('alias') alias: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    if (!(MODEL_ALIAS_NAMES as readonly string[]).includes(alias)) throw new BadRequestException(`alias must be one of ${MODEL_ALIAS_NAMES.join(', ')}`);
    const { version, reason } = parseBody(promoteRequestSchema, body);
    const { fromVersion } = await this.registry.promote({ modelName: name, alias: alias as ModelAlias, version, reason, actorId: request.user.id });
    return { alias, version, fromVersion };
  }

  @Get('models/:name/aliases/history')
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: "Every move of the model's aliases, newest first: who, when, from which version to which, and why.", response: aliasHistoryResponseSchema })
  async history(@Param('name', validParam(modelNameSchema)) name: string) {
    return { moves: (await this.registry.aliasHistory(name)).map((move) => ({ ...move, movedAt: move.movedAt.toISOString() })) };
  }

  @Get('registry/keys')
  @Public()
  @ApiRoute({ summary: 'The public keys model packages from this registry are signed with, for devices to verify them.', response: registryKeysResponseSchema })
  keysOfRegistry() {
    return { keys: [{ keyId: this.keys.signing.keyId, publicKeyPem: publicKeyToPem(this.keys.signing.publicKey) }] };
  }
}
