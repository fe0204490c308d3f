import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BrokerPrincipal, DeviceAcl, MqttAction } from '@loupe/topics';
import type { BrokerGate, ConnectVerdict } from '../../embedded/embedded-broker';
import type { DeviceCredentials } from './device-credentials';
import type { IdentityMetrics } from './identity-metrics';

/** The cloud's own broker account. */
export interface ServiceAccount {
  username: string;
  password: string;
}

/** An account for this process only, when the cloud runs its own broker and none is configured. */
export function generatedServiceAccount(): ServiceAccount {
  return { username: 'loupe-cloud', password: randomBytes(32).toString('base64url') };
}

const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();

/**
 * Who may connect to the embedded broker and what each may do: the cloud's
 * service account, and enrolled devices on their own topics. A device must
 * connect with its user name as client id, so it can never take over
 * another device's session (MQTT 3.1.1 section 3.1.4: a second connection
 * with a client id ends the first).
 */
export class BrokerAccess implements BrokerGate {
  constructor(
    private readonly service: ServiceAccount,
    private readonly devices: Pick<DeviceCredentials, 'verify'>,
    private readonly acl: DeviceAcl,
    private readonly metrics: Pick<IdentityMetrics, 'brokerConnects' | 'brokerDenials'>,
  ) {}

  async connect(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<ConnectVerdict> {
    const verdict = await this.verdict(clientId, username, password);
    this.metrics.brokerConnects.inc({ outcome: 'principal' in verdict ? verdict.principal.kind : verdict.refused });
    return verdict;
  }

  allows(principal: BrokerPrincipal, action: MqttAction, topic: string): boolean {
    const allowed = this.acl.allows(principal, action, topic);
    if (!allowed) this.metrics.brokerDenials.inc({ action });
    return allowed;
  }

  private async verdict(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<ConnectVerdict> {
    if (username === undefined || password === undefined) return { refused: 'anonymous' };
    if (username === this.service.username) {
      // Compared as digests: equal lengths for timingSafeEqual, whatever was sent.
      return timingSafeEqual(digest(password), digest(this.service.password)) ? { principal: { kind: 'service' } } : { refused: 'bad-credentials' };
    }
    const device = await this.devices.verify(username, password.toString('utf8'));
    if (!device) return { refused: 'bad-credentials' };
    if (clientId !== username) return { refused: 'wrong-client-id' };
    return { principal: { kind: 'device', siteId: device.siteId, deviceId: device.deviceId } };
  }
}
