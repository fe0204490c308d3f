export interface ActiveModel {
  name: string;
  version: string;
  sha256: string;
}

/**
 * What the agent knows about itself, for telemetry and its status page.
 * The inference runtime sets the model and provider once one is active.
 */
export class AgentStatus {
  private model: ActiveModel | null = null;
  private provider: string | null = null;

  constructor(
    readonly agentVersion: string,
    private readonly startedAt: number = performance.now(),
  ) {}

  setActiveModel(model: ActiveModel, provider: string): void {
    this.model = model;
    this.provider = provider;
  }

  snapshot(now: number = performance.now()) {
    return {
      agentVersion: this.agentVersion,
      model: this.model,
      provider: this.provider,
      uptimeSeconds: Math.max(0, (now - this.startedAt) / 1_000),
    };
  }
}
