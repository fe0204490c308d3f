import { Controller, Get, Header, Inject } from '@nestjs/common';
import { CLOUD_METRICS } from '../infrastructure.tokens';
import type { CloudMetrics } from './cloud-metrics';
import { Public } from '../auth/roles';

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(CLOUD_METRICS) private readonly metrics: CloudMetrics) {}

  /** Prometheus text exposition format. */
  @Get()
  @Public()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
