import type { DeviceTopics } from '@loupe/topics';
import type { ServiceAccount } from './broker-access';
import type { DeviceIdentityRepository } from './device-identity.repository';
import { BrokerConfigUnavailableError } from './identity.errors';
import { hashMosquittoPassword } from './mosquitto-password';
import { mosquittoConfigFiles, type ConfigFile } from './mosquitto-config';

// A line of a password or ACL file: no separator, no line break, no padding.
const PLAIN_USERNAME = /^[^\s:]+$/;

/** Mosquitto's configuration for the devices enrolled now and the cloud's configured account. */
export class MosquittoConfigService {
  constructor(
    private readonly repository: Pick<DeviceIdentityRepository, 'activeCredentials'>,
    private readonly serviceAccount: ServiceAccount | undefined,
    private readonly topics: DeviceTopics,
    /** Mosquitto's max_packet_size: the cloud's SAMPLE_MAX_BYTES and room for the packet around it. */
    private readonly maxPacketBytes: number,
  ) {}

  async generate(options: { directory: string; devicePort: number; servicePort: number }): Promise<{ devices: number; files: ConfigFile[] }> {
    const service = this.serviceAccount;
    if (!service) {
      throw new BrokerConfigUnavailableError(
        "the cloud has no broker account of its own: set MQTT_USERNAME and MQTT_PASSWORD on the cloud; the generated files give that account to it",
      );
    }
    if (!PLAIN_USERNAME.test(service.username)) {
      throw new BrokerConfigUnavailableError(`MQTT_USERNAME "${service.username}" cannot go into a Mosquitto password file: use one without spaces or ':'`);
    }
    const devices = await this.repository.activeCredentials();
    const files = mosquittoConfigFiles({
      ...options,
      topics: this.topics,
      maxPacketBytes: this.maxPacketBytes,
      devices,
      service: { username: service.username, passwordHash: await hashMosquittoPassword(service.password) },
    });
    return { devices: devices.length, files };
  }
}
