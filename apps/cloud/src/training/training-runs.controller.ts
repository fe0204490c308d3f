import { startTrainingRunRequestSchema, trainingRunListResponseSchema, trainingRunSchema, type TrainingRunDto, type TrainingRunListResponse } from '@loupe/api-contracts';
import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { ANY_ROLE, Allow } from '../auth/roles';
import type { SignedInRequest } from '../auth/session.guard';
import { ApiRoute, parseBody } from '../http/api-route';
import type { TrainingRun } from './training-run';
import { TrainingRuns } from './training-runs';

// The schema keeps the contract's fields only (authorId stays inside the cloud).
const toDto = (run: TrainingRun): TrainingRunDto =>
  trainingRunSchema.parse({ ...run, createdAt: run.createdAt.toISOString(), startedAt: run.startedAt?.toISOString() ?? null, finishedAt: run.finishedAt?.toISOString() ?? null });

/** Training runs: engineers start and cancel them; everyone may watch. */
@Controller('api')
export class TrainingRunsController {
  constructor(@Inject(TrainingRuns) private readonly runs: TrainingRuns) {}

  @Post('projects/:projectId/training-runs')
  @HttpCode(201)
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary:
      "Queue a training run of the project: its settled labels become a dataset version, features come from the backbone (the default's latest version " +
      'when none is named), and the trained head is evaluated against the model serving the project on the same test split. A worker picks it up.',
    body: startTrainingRunRequestSchema,
    response: trainingRunSchema,
  })
  async start(@Param('projectId', ParseUUIDPipe) projectId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<TrainingRunDto> {
    const { backbone, recipe } = parseBody(startTrainingRunRequestSchema, body);
    return toDto(await this.runs.start({ projectId, ...(backbone ? { backbone } : {}), recipe, trigger: 'manual', startedBy: request.user.name, authorId: request.user.id }));
  }

  @Get('projects/:projectId/training-runs')
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: "The project's latest 200 training runs, newest first, with progress and metrics.", response: trainingRunListResponseSchema })
  async list(@Param('projectId', ParseUUIDPipe) projectId: string): Promise<TrainingRunListResponse> {
    return { runs: (await this.runs.list(projectId)).map(toDto) };
  }

  @Get('training-runs/:id')
  @Allow(...ANY_ROLE)
  @ApiRoute({ summary: 'One training run: state, progress, dataset version, features, challenger and champion metrics, candidate and decision.', response: trainingRunSchema })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<TrainingRunDto> {
    return toDto(await this.runs.get(id));
  }

  @Post('training-runs/:id/cancel')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'Cancel a queued or running training run; a running one stops at its next step. 409 when it has ended.', response: trainingRunSchema })
  async cancel(@Param('id', ParseUUIDPipe) id: string): Promise<TrainingRunDto> {
    return toDto(await this.runs.cancel(id));
  }
}
