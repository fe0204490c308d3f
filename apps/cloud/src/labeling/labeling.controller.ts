import {
  claimResponseSchema,
  createProjectRequestSchema,
  heartbeatResponseSchema,
  leaseRequestSchema,
  projectListResponseSchema,
  projectProgressResponseSchema,
  projectSchema,
  submitRequestSchema,
  submitResponseSchema,
  undoResponseSchema,
  type ClaimResponse,
  type ProjectDto,
  type ProjectProgressResponse,
  type SubmitResponse,
  type UndoResponse,
} from '@loupe/api-contracts';
import { Readable } from 'node:stream';
import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Allow, ANY_ROLE } from '../auth/roles';
import type { SignedInRequest } from '../auth/session.guard';
import { ApiRoute, parseBody } from '../http/api-route';
import { answerOf, toClaimDto } from './answer';
import { DatasetExport } from './dataset-export';
import { LabelingQueue, type LabelerClaim } from './labeling-queue';
import { ProjectRepository } from './project.repository';

const LABELING_ROLES = ['labeler', 'reviewer'] as const;

@Controller('api/projects')
export class ProjectsController {
  constructor(
    @Inject(ProjectRepository) private readonly projects: ProjectRepository,
    @Inject(LabelingQueue) private readonly queue: LabelingQueue,
    @Inject(DatasetExport) private readonly datasets: DatasetExport,
  ) {}

  @Get(':id/export')
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary:
      'The settled samples as a dataset, streamed: format=jsonl (default; one sample per line) or coco (detection). ' +
      'x-total-count says how many samples follow.',
  })
  async export(@Param('id', ParseUUIDPipe) projectId: string, @Query('format') format: string | undefined, @Res() reply: FastifyReply) {
    const chosen = format ?? 'jsonl';
    if (chosen !== 'jsonl' && chosen !== 'coco') throw new BadRequestException('format must be jsonl or coco');
    const project = await this.projects.get(projectId);
    if (chosen === 'coco' && project.task !== 'detection') throw new BadRequestException('coco is for detection projects; use format=jsonl');
    const snapshot = await this.datasets.open(projectId);
    const chunks = chosen === 'jsonl' ? snapshot.jsonl() : snapshot.coco(project.classes);
    async function* andClose() {
      try {
        yield* chunks;
      } finally {
        await snapshot.close();
      }
    }
    const name = `${project.name.replace(/[^\w.-]+/g, '-')}.${chosen === 'jsonl' ? 'jsonl' : 'coco.json'}`;
    return reply
      .header('content-type', chosen === 'jsonl' ? 'application/x-ndjson' : 'application/json')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-total-count', String(snapshot.count))
      .send(Readable.from(andClose()));
  }

  @Get()
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: 'Every labeling project.', response: projectListResponseSchema })
  async list(): Promise<{ projects: ProjectDto[] }> {
    return { projects: await this.projects.list() };
  }

  @Post()
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: "Create a project; its model's stored samples join its queue.", body: createProjectRequestSchema, response: projectSchema })
  create(@Body() body: unknown): Promise<ProjectDto> {
    return this.projects.create(parseBody(createProjectRequestSchema, body));
  }

  @Get(':id/progress')
  @Allow(...LABELING_ROLES)
  @ApiRoute({
    summary: "Your answers in the project since midnight and the samples waiting in it: the queue screen's counters.",
    response: projectProgressResponseSchema,
  })
  async progress(@Param('id', ParseUUIDPipe) projectId: string, @Req() request: SignedInRequest): Promise<ProjectProgressResponse> {
    await this.projects.get(projectId);
    const [doneTodayInProject, queueDepth] = await Promise.all([this.queue.answeredTodayIn(projectId, request.user.id), this.queue.depth(projectId)]);
    return { doneTodayInProject, queueDepth };
  }

  @Post(':id/claims')
  @HttpCode(200)
  @Allow(...LABELING_ROLES)
  @ApiRoute({ summary: 'Claim the next sample to label, under a lease.', response: claimResponseSchema })
  async claim(@Param('id', ParseUUIDPipe) projectId: string, @Req() request: SignedInRequest): Promise<ClaimResponse> {
    const claimed = await this.queue.claim(projectId, request.user.id);
    // Nothing to claim: say so, or 404 when there is no such project.
    if (!claimed.sample) await this.projects.get(projectId);
    return claimResponse(claimed, await this.queue.depth(projectId));
  }
}

function claimResponse(claimed: LabelerClaim, queueDepth: number): ClaimResponse {
  return { claim: claimed.sample ? toClaimDto(claimed.sample) : null, queueDepth, doneToday: claimed.answeredToday };
}

@Controller('api/claims/:sampleId')
export class ClaimsController {
  constructor(@Inject(LabelingQueue) private readonly queue: LabelingQueue) {}

  @Post('heartbeat')
  @HttpCode(200)
  @Allow(...LABELING_ROLES)
  @ApiRoute({ summary: 'Extend the lease.', body: leaseRequestSchema, response: heartbeatResponseSchema })
  async heartbeat(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    const { token } = parseBody(leaseRequestSchema, body);
    return { expiresAt: (await this.queue.heartbeat({ sampleId, labelerId: request.user.id, token })).toISOString() };
  }

  @Post('submit')
  @HttpCode(200)
  @Allow(...LABELING_ROLES)
  @ApiRoute({ summary: 'Answer the sample; ends the lease.', body: submitRequestSchema, response: submitResponseSchema })
  async submit(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<SubmitResponse> {
    const { token, className, boxes, spentMs, claimNext } = parseBody(submitRequestSchema, body);
    const holder = { sampleId, labelerId: request.user.id, token };
    const answer = { ...answerOf({ className, boxes }), spentMs };
    if (!claimNext) return { state: await this.queue.submit(holder, answer) };
    const { state, projectId, next } = await this.queue.submitAndClaim(holder, answer);
    return { state, next: claimResponse(next, await this.queue.depth(projectId)) };
  }

  @Post('undo')
  @HttpCode(200)
  @Allow(...LABELING_ROLES)
  @ApiRoute({
    summary: 'Take back your answer on the sample and claim it again, within LABEL_LEASE of answering and before a reviewer decided it.',
    response: undoResponseSchema,
  })
  async undo(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Req() request: SignedInRequest): Promise<UndoResponse> {
    const { sample, answeredToday } = await this.queue.undo(request.user.id, sampleId);
    return { claim: toClaimDto(sample), doneToday: answeredToday };
  }

  @Post('skip')
  @HttpCode(204)
  @Allow(...LABELING_ROLES)
  @ApiRoute({ summary: 'Give the sample back; you will not be offered it again.', body: leaseRequestSchema })
  async skip(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<void> {
    await this.queue.skip({ sampleId, labelerId: request.user.id, token: parseBody(leaseRequestSchema, body).token });
  }

  @Post('release')
  @HttpCode(204)
  @Allow(...LABELING_ROLES)
  @ApiRoute({ summary: 'Give the sample back for anyone to claim.', body: leaseRequestSchema })
  async release(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<void> {
    await this.queue.release({ sampleId, labelerId: request.user.id, token: parseBody(leaseRequestSchema, body).token });
  }
}
