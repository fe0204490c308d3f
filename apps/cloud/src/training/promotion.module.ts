import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { RolloutsModule } from '../rollouts/rollouts.module';
import { CandidatePublisher } from './candidate-publisher';
import { PromotionRepository } from './promotion.repository';
import { Promotions } from './promotions';
import { PromotionsController } from './promotions.controller';
import { TrainingPolicies } from './training-policies';
import { TrainingPolicyController } from './training-policy.controller';
import { TrainingPolicyRepository } from './training-policy.repository';

/**
 * What happens to a training run's candidate, and each project's policy:
 * the candidate pushed with its lineage (CandidatePublisher, which the run
 * pipeline calls), its decision, an engineer's approval or rejection, and
 * the policy's REST API. The triggers need the runs' queue, so they live
 * with it in the training module.
 */
@Module({
  imports: [RegistryModule, RolloutsModule],
  controllers: [TrainingPolicyController, PromotionsController],
  providers: [TrainingPolicyRepository, TrainingPolicies, PromotionRepository, Promotions, CandidatePublisher],
  exports: [CandidatePublisher, TrainingPolicyRepository, Promotions],
})
export class PromotionModule {}
