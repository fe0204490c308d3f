import { promotionSchema, trainingDecisionRequestSchema, type PromotionDto } from '@loupe/api-contracts';
import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { Allow } from '../auth/roles';
import type { SignedInRequest } from '../auth/session.guard';
import { ApiRoute, parseBody } from '../http/api-route';
import type { Promotion } from './promotion.repository';
import { Promotions } from './promotions';

const toDto = (promotion: Promotion): PromotionDto =>
  promotionSchema.parse({ ...promotion, events: promotion.events.map((event) => ({ ...event, at: event.at.toISOString() })) });

/** What engineers decide on a training run's candidate. */
@Controller('api')
export class PromotionsController {
  constructor(@Inject(Promotions) private readonly promotions: Promotions) {}

  @Get('training-runs/:id/promotion')
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: "What became of the run's candidate: its decision, its rollout, and every decision with its numbers (the audit log).", response: promotionSchema })
  async show(@Param('id', ParseUUIDPipe) runId: string): Promise<PromotionDto> {
    return toDto(await this.promotions.show(runId));
  }

  @Post('training-runs/:id/approve')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({
    summary:
      "Approve a candidate awaiting approval: its canary rollout starts at once with the project's plan and gates, to the policy's fleet group. " +
      '409 when it lost or was decided on already.',
    body: trainingDecisionRequestSchema,
    response: promotionSchema,
  })
  async approve(@Param('id', ParseUUIDPipe) runId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<PromotionDto> {
    const { reason } = parseBody(trainingDecisionRequestSchema, body);
    return toDto(await this.promotions.approve(runId, request.user, reason));
  }

  @Post('training-runs/:id/reject')
  @HttpCode(200)
  @Allow('engineer', 'admin')
  @ApiRoute({ summary: 'Reject a candidate awaiting approval: it stays in the registry and never rolls out. 409 when it was decided on already.', body: trainingDecisionRequestSchema, response: promotionSchema })
  async reject(@Param('id', ParseUUIDPipe) runId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<PromotionDto> {
    const { reason } = parseBody(trainingDecisionRequestSchema, body);
    return toDto(await this.promotions.reject(runId, request.user, reason));
  }
}
