import { Module } from '@nestjs/common';
import { RegistryModule } from '../../registry/registry.module';
import { DesiredModels } from './desired-models';
import { DesiredStatePublisher } from './desired-state.publisher';
import { DeviceModelStates } from './device-model-states';
import { ReportedStateConsumer } from './reported-state.consumer';

/** What the cloud wants each device to run, what each says it runs, and the messages between them. */
@Module({
  imports: [RegistryModule],
  providers: [DeviceModelStates, DesiredModels, DesiredStatePublisher, ReportedStateConsumer],
  exports: [DeviceModelStates, DesiredModels, DesiredStatePublisher],
})
export class FleetStateModule {}
