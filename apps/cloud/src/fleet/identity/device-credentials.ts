import { deviceUsername, parseDeviceUsername } from '@loupe/topics';
import type { DeviceCredential, DeviceIdentityRepository, DeviceRef } from './device-identity.repository';
import { verifyMosquittoPassword } from './mosquitto-password';

/** An enrolled device, as its credentials prove it. */
export interface DeviceIdentity extends DeviceRef {
  fleetGroup: string;
}

// Every broker CONNECT and every package download checks credentials; a
// fleet reconnecting after a broker restart must not turn into a query per
// device. A credential is trusted for this long: a revocation takes effect
// at once on the replica that handled it (which also disconnects the
// device from its embedded broker), and on other replicas within this time.
const RECHECK_MS = 30_000;
const REMEMBERED = 10_000;

/**
 * Checks a device's user name and secret, for the broker and for HTTP.
 * Only known credentials are remembered: a device enrolled on another
 * replica a moment ago is found on its first try.
 */
export class DeviceCredentials {
  private readonly remembered = new Map<string, { credential: DeviceCredential; until: number }>();
  private readonly listeners: ((device: DeviceRef) => void)[] = [];
  // Bumped by every invalidation, so a lookup that read the row before a
  // revocation committed does not remember it afterwards.
  private generation = 0;

  constructor(
    private readonly repository: Pick<DeviceIdentityRepository, 'activeCredential'>,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(username: string, password: string): Promise<DeviceIdentity | undefined> {
    const device = parseDeviceUsername(username);
    if (!device) return undefined;
    const credential = await this.credentialOf(username, device);
    if (!credential || !(await verifyMosquittoPassword(password, credential.secretHash))) return undefined;
    return { siteId: credential.siteId, deviceId: credential.deviceId, fleetGroup: credential.fleetGroup };
  }

  /**
   * Forgets what this process knew of the device's credential, after it was
   * revoked or replaced here, and tells the listeners (the embedded broker
   * disconnects the device's session).
   */
  invalidate(device: DeviceRef): void {
    this.generation++;
    this.remembered.delete(deviceUsername(device.siteId, device.deviceId));
    for (const listener of this.listeners) listener(device);
  }

  onInvalidated(listener: (device: DeviceRef) => void): void {
    this.listeners.push(listener);
  }

  private async credentialOf(username: string, device: DeviceRef): Promise<DeviceCredential | undefined> {
    const known = this.remembered.get(username);
    if (known && known.until > this.now()) return known.credential;
    this.remembered.delete(username);
    const generation = this.generation;
    const credential = await this.repository.activeCredential(device);
    if (generation !== this.generation) return this.credentialOf(username, device);
    if (!credential) return undefined;
    if (this.remembered.size >= REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(username, { credential, until: this.now() + RECHECK_MS });
    return credential;
  }
}
