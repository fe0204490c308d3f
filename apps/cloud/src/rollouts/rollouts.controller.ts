import {
  rolloutCommandRequestSchema,
  rolloutDetailSchema,
  rolloutListResponseSchema,
  rolloutSchema,
  startRolloutRequestSchema,
  type RolloutDetailDto,
  type RolloutDto,
} from '@loupe/api-contracts';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { Allow } from '../auth/roles';
import type { SignedInRequest } from '../auth/session.guard';
import { ApiRoute, parseBody } from '../http/api-route';
import type { RolloutRecord } from './rollout-records';
import type { RolloutCommand } from './rollout-planner';
import { Rollouts, type RolloutDetail } from './rollouts';

const toDto = (rollout: RolloutRecord): RolloutDto =>
  rolloutSchema.parse({
    ...rollout,
    bakeStartedAt: rollout.bakeStartedAt?.toISOString() ?? null,
    createdAt: rollout.createdAt.toISOString(),
    updatedAt: rollout.updatedAt.toISOString(),
  });

const toDetailDto = (rollout: RolloutDetail): RolloutDetailDto =>
  rolloutDetailSchema.parse({
    ...toDto(rollout),
    devices: rollout.devices.map((device) => ({ ...device, updatedAt: device.updatedAt.toISOString() })),
    cohorts: rollout.cohorts,
    gates: rollout.gates,
    events: rollout.events.map((event) => ({ ...event, at: event.at.toISOString() })),
  });

/** Staged model rollouts for ML engineers. */
@Controller('api')
export class RolloutsController {
  constructor(@Inject(Rollouts) private readonly rollouts: Rollouts) {}

  @Post('rollouts')
  @HttpCode(201)
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary:
      'Start a rollout of a model version to a fleet group: stages of named canaries and/or percentages, bake times, gates and ' +
      'how many devices update at once. It compares with, and returns to, the version most of the group runs unless fromVersion says.',
    body: startRolloutRequestSchema,
    response: rolloutSchema,
  })
  async start(@Body() body: unknown, @Req() request: SignedInRequest): Promise<RolloutDto> {
    const { model, version, fleetGroup, fromVersion, plan } = parseBody(startRolloutRequestSchema, body);
    return toDto(await this.rollouts.start({ modelName: model, version, fleetGroup, plan, ...(fromVersion === undefined ? {} : { fromVersion }) }, request.user.id));
  }

  @Get('rollouts')
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'The latest 200 rollouts, newest first.', response: rolloutListResponseSchema })
  async list() {
    return { rollouts: (await this.rollouts.list()).map(toDto) };
  }

  @Get('rollouts/:id')
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'One rollout: its plan, stage, devices, the gate metrics of both cohorts side by side, and its audit log.', response: rolloutDetailSchema })
  async get(@Param('id') id: string): Promise<RolloutDetailDto> {
    return toDetailDto(await this.rollouts.get(id));
  }

  @Post('rollouts/:id/pause')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'Pause a running rollout: no more devices are asked to update until it is resumed.', body: rolloutCommandRequestSchema, response: rolloutSchema })
  pause(@Param('id') id: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    return this.command(id, 'pause', body, request);
  }

  @Post('rollouts/:id/resume')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'Resume a paused rollout; its bake and timeouts start again.', body: rolloutCommandRequestSchema, response: rolloutSchema })
  resume(@Param('id') id: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    return this.command(id, 'resume', body, request);
  }

  @Post('rollouts/:id/abort')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'Abort a rollout: every device it touched goes back to the old version.', body: rolloutCommandRequestSchema, response: rolloutSchema })
  abort(@Param('id') id: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    return this.command(id, 'abort', body, request);
  }

  @Post('rollouts/:id/promote')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'Promote a rollout past its current stage without waiting for the bake and gates (a person vouches for it).', body: rolloutCommandRequestSchema, response: rolloutSchema })
  promote(@Param('id') id: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    return this.command(id, 'promote', body, request);
  }

  private async command(id: string, command: RolloutCommand, body: unknown, request: SignedInRequest): Promise<RolloutDto> {
    const { reason } = parseBody(rolloutCommandRequestSchema, body);
    return toDto(await this.rollouts.command(id, command, request.user.id, reason));
  }
}
