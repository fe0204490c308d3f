import { runService } from '@loupe/service';
import { startCloud } from './cloud-runtime';
import { loadCloudConfig } from './config/cloud-config';

await runService({
  name: 'cloud',
  loadConfig: loadCloudConfig,
  logLevel: (config) => config.logLevel,
  shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
  start: startCloud,
});
