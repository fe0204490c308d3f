import { deviceUsername, parseDeviceUsername } from '@loupe/topics';
import type { DeviceCredential, DeviceIdentityRepository, DeviceRef } from './device-identity.repository';
import { RecentlyChecked } from '../../caching/recently-checked';
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

/** Checks a device's user name and secret, for the broker and for HTTP. */
export class DeviceCredentials {
  private readonly credentials: RecentlyChecked<DeviceCredential>;
  private readonly listeners: ((device: DeviceRef) => void)[] = [];

  constructor(
    private readonly repository: Pick<DeviceIdentityRepository, 'activeCredential'>,
    now: () => number = Date.now,
  ) {
    this.credentials = new RecentlyChecked(RECHECK_MS, REMEMBERED, now);
  }

  async verify(username: string, password: string): Promise<DeviceIdentity | undefined> {
    const device = parseDeviceUsername(username);
    if (!device) return undefined;
    const credential = await this.credentials.get(username, async () => {
      const found = await this.repository.activeCredential(device);
      return found && { value: found };
    });
    if (!credential || !(await verifyMosquittoPassword(password, credential.secretHash))) return undefined;
    return { siteId: credential.siteId, deviceId: credential.deviceId, fleetGroup: credential.fleetGroup };
  }

  /**
   * Forgets what this process knew of the device's credential, after it was
   * revoked or replaced here, and tells the listeners (the embedded broker
   * disconnects the device's session).
   */
  invalidate(device: DeviceRef): void {
    this.credentials.forget(deviceUsername(device.siteId, device.deviceId));
    for (const listener of this.listeners) listener(device);
  }

  onInvalidated(listener: (device: DeviceRef) => void): void {
    this.listeners.push(listener);
  }
}
