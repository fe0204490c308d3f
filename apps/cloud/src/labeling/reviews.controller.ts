import {
  decideRequestSchema,
  heartbeatResponseSchema,
  leaseRequestSchema,
  reviewClaimResponseSchema,
  type ReviewClaimResponse,
} from '@loupe/api-contracts';
import { Body, Controller, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { z } from 'zod';
import { Allow } from '../auth/roles';
import type { SignedInRequest } from '../auth/session.guard';
import { ApiRoute, parseBody } from '../http/api-route';
import { answerOf, toClaimDto } from './answer';
import { ProjectRepository } from './project.repository';
import { ReviewQueue } from './review-queue';

/** Disagreements between labelers, decided by reviewers. */
@Controller('api')
export class ReviewsController {
  constructor(
    @Inject(ReviewQueue) private readonly reviews: ReviewQueue,
    @Inject(ProjectRepository) private readonly projects: ProjectRepository,
  ) {}

  @Post('projects/:id/reviews')
  @HttpCode(200)
  @Allow('reviewer')
  @ApiRoute({ summary: 'Claim the next disagreement to decide, under a lease, with the answers labelers gave.', response: reviewClaimResponseSchema })
  async claim(@Param('id', ParseUUIDPipe) projectId: string, @Req() request: SignedInRequest): Promise<ReviewClaimResponse> {
    const claimed = await this.reviews.claim(projectId, request.user.id);
    if (!claimed) await this.projects.get(projectId);
    const reviewDepth = await this.reviews.depth(projectId);
    if (!claimed) return { review: null, reviewDepth };
    const answers = claimed.answers.map(({ labeler, answer, spentMs }) => ({ labeler, spentMs, ...answer }));
    return { review: { ...toClaimDto(claimed), answers }, reviewDepth };
  }

  @Post('reviews/:sampleId/decide')
  @HttpCode(200)
  @Allow('reviewer')
  @ApiRoute({ summary: "Give the final answer; it becomes the sample's label and ends the lease.", body: decideRequestSchema, response: z.object({ state: z.literal('done') }) })
  async decide(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    const { token, className, boxes } = parseBody(decideRequestSchema, body);
    return { state: await this.reviews.decide({ sampleId, labelerId: request.user.id, token }, answerOf({ className, boxes })) };
  }

  @Post('reviews/:sampleId/heartbeat')
  @HttpCode(200)
  @Allow('reviewer')
  @ApiRoute({ summary: 'Extend the review lease.', body: leaseRequestSchema, response: heartbeatResponseSchema })
  async heartbeat(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Body() body: unknown, @Req() request: SignedInRequest) {
    const { token } = parseBody(leaseRequestSchema, body);
    return { expiresAt: (await this.reviews.heartbeat({ sampleId, labelerId: request.user.id, token })).toISOString() };
  }

  @Post('reviews/:sampleId/release')
  @HttpCode(204)
  @Allow('reviewer')
  @ApiRoute({ summary: 'Give the disagreement back undecided, for any reviewer.', body: leaseRequestSchema })
  async release(@Param('sampleId', ParseUUIDPipe) sampleId: string, @Body() body: unknown, @Req() request: SignedInRequest): Promise<void> {
    await this.reviews.release({ sampleId, labelerId: request.user.id, token: parseBody(leaseRequestSchema, body).token });
  }
}
