import { trainingPolicySchema, type TrainingPolicyDto } from '@loupe/api-contracts';
import { Body, Controller, Get, Inject, Param, ParseUUIDPipe, Put, Req } from '@nestjs/common';
import { Allow } from '../auth/roles';
import type { SignedInRequest } from '../auth/session.guard';
import { ApiRoute, parseBody } from '../http/api-route';
import { TrainingPolicies } from './training-policies';

/** A project's training policy, for ML engineers. */
@Controller('api')
export class TrainingPolicyController {
  constructor(@Inject(TrainingPolicies) private readonly policies: TrainingPolicies) {}

  @Get('projects/:projectId/training-policy')
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: "The project's training policy: promotion margin and mode, triggers, fleet group and rollout plan (the defaults until set).", response: trainingPolicySchema })
  get(@Param('projectId', ParseUUIDPipe) projectId: string): Promise<TrainingPolicyDto> {
    return this.policies.get(projectId);
  }

  @Put('projects/:projectId/training-policy')
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary:
      "Set the project's training policy. Runs its triggers start, and rollouts its policy starts, are on behalf of whoever set it last; " +
      'a rollout plan is checked now (400 naming every field).',
    body: trainingPolicySchema,
    response: trainingPolicySchema,
  })
  put(@Param('projectId', ParseUUIDPipe) projectId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<TrainingPolicyDto> {
    return this.policies.put(projectId, parseBody(trainingPolicySchema, body), request.user.id);
  }
}
