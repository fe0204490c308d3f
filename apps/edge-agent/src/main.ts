import { runService } from '@loupe/service';
import { startAgent } from './agent-runtime';
import { loadAgentConfig } from './config/agent-config';

await runService({
  name: 'edge-agent',
  loadConfig: loadAgentConfig,
  logLevel: (config) => config.logLevel,
  shutdownTimeoutMs: (config) => config.shutdownTimeoutMs,
  start: startAgent,
});
