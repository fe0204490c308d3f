import { randomUUID } from 'node:crypto';
import type { MqttLink } from '@loupe/mqtt';
import { DomainError } from '@loupe/service';
import { deviceGrants, deviceUsername, type DeviceTopics } from '@loupe/topics';
import type { DeviceRef } from './device-identity.repository';
import type { BrokerAccounts } from './enrollment.service';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

/**
 * The role that gives the cloud's account its topics, one per topic root,
 * so deployments sharing a broker keep apart; the account itself is made
 * when the broker's data is first initialised.
 */
const serviceRoleFor = (topicRoot: string) => `loupe-cloud:${topicRoot}`;
const deviceRole = (username: string) => `loupe-device:${username}`;

interface Command {
  command: string;
  [field: string]: unknown;
}

interface Response {
  command: string;
  error?: string;
  correlationData?: string;
  data?: unknown;
}

/** Mosquitto refused a dynamic-security command, or did not answer in time (HTTP 503: nothing was changed, try again). */
export class DynamicSecurityError extends DomainError {
  readonly kind = 'unavailable';
  constructor(message: string) {
    super(`Mosquitto dynamic security: ${message}`);
  }
}

/**
 * Device accounts on a Mosquitto running its dynamic-security plugin, kept
 * through the plugin's control topic on a link signed in as the plugin's
 * admin (docs/fleet.md). Each device gets a role of its own with exactly the
 * topics `deviceGrants` lists (Mosquitto 2.0's plugin does not substitute
 * %u in ACLs) and a client bound to its user name as client id. The plugin
 * checks SUBSCRIBE, so a device's wildcard or shared subscription is refused
 * outright.
 */
export class MosquittoDynamicSecurity implements BrokerAccounts {
  private readonly waiting = new Map<string, (response: Response) => void>();
  private readonly serviceRole: string;

  constructor(
    private readonly link: MqttLink,
    private readonly topics: DeviceTopics,
    private readonly timeoutMs = 10_000,
  ) {
    this.serviceRole = serviceRoleFor(topics.root);
    link.onMessage(RESPONSE_TOPIC, (_topic, payload) => this.settle(payload));
  }

  /** Subscribes to the plugin's answers; call before the link starts. */
  async listen(): Promise<void> {
    await this.link.subscribe(RESPONSE_TOPIC, 1);
  }

  /**
   * Gives the cloud's account the role for its topic root: everything under
   * it, including shared subscriptions. Creating the role and adding it are
   * skipped when already done, so every replica can run this at start.
   */
  async grantService(username: string): Promise<void> {
    const [role] = await this.run([{ command: 'getRole', rolename: this.serviceRole }], { tolerate: ['Role not found'] });
    if (role?.error) {
      const everything = `${this.topics.root}/#`;
      const acls = [
        { acltype: 'publishClientSend', topic: everything, allow: true },
        { acltype: 'publishClientReceive', topic: everything, allow: true },
        { acltype: 'subscribePattern', topic: everything, allow: true },
        { acltype: 'subscribePattern', topic: `$share/+/${everything}`, allow: true },
        { acltype: 'unsubscribePattern', topic: everything, allow: true },
        { acltype: 'unsubscribePattern', topic: `$share/+/${everything}`, allow: true },
      ];
      await this.run([{ command: 'createRole', rolename: this.serviceRole, acls }], { tolerate: ['Role already exists'] });
    }
    if (await this.holdsServiceRole(username)) return;
    // The plugin disconnects a client whose roles change, this link
    // included, so the answer may never come: check again once reconnected.
    await this.run([{ command: 'addClientRole', username, rolename: this.serviceRole }]).catch(() => undefined);
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      await this.link.waitConnected(Math.max(1, deadline - Date.now()));
      if (await this.holdsServiceRole(username).catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new DynamicSecurityError(`could not give ${username} the ${this.serviceRole} role within ${this.timeoutMs} ms`);
  }

  private async holdsServiceRole(username: string): Promise<boolean> {
    const [client] = await this.run([{ command: 'getClient', username }]);
    const roles = (client?.data as { client?: { roles?: { rolename: string }[] } } | undefined)?.client?.roles ?? [];
    return roles.some((held) => held.rolename === this.serviceRole);
  }

  async grantDevice(device: DeviceRef, password: string): Promise<void> {
    const username = deviceUsername(device.siteId, device.deviceId);
    const grants = deviceGrants(this.topics, device.siteId, device.deviceId);
    const acls = [
      ...grants.publish.map((topic) => ({ acltype: 'publishClientSend', topic, allow: true })),
      ...grants.subscribe.flatMap((topic) => [
        { acltype: 'subscribeLiteral', topic, allow: true },
        { acltype: 'publishClientReceive', topic, allow: true },
      ]),
    ];
    await this.run(
      [
        // A device enrolled again starts from nothing: its old secret and session go.
        ...this.removal(username),
        { command: 'createRole', rolename: deviceRole(username), acls },
        { command: 'createClient', username, password, clientid: username, roles: [{ rolename: deviceRole(username) }] },
      ],
      { tolerate: ['Client not found', 'Role not found'] },
    );
  }

  async removeDevice(device: DeviceRef): Promise<void> {
    await this.run(this.removal(deviceUsername(device.siteId, device.deviceId)), { tolerate: ['Client not found', 'Role not found'] });
  }

  /** Deleting a client also disconnects it (the plugin kicks every session of that user name). */
  private removal(username: string): Command[] {
    return [
      { command: 'deleteClient', username },
      { command: 'deleteRole', rolename: deviceRole(username) },
    ];
  }

  /** Sends the commands in one message and waits for every answer; an error not in `tolerate` fails the call. */
  private async run(commands: Command[], { tolerate = [] as string[] } = {}): Promise<Response[]> {
    const tagged = commands.map((command) => ({ ...command, correlationData: randomUUID() }));
    const names = commands.map((command) => command.command).join(', ');
    const responses = await new Promise<Response[]>((resolve, reject) => {
      const answered = new Map<string, Response>();
      const done = (error?: Error) => {
        clearTimeout(timer);
        for (const { correlationData } of tagged) this.waiting.delete(correlationData);
        if (error) reject(error);
        else resolve(tagged.map(({ correlationData }) => answered.get(correlationData)!));
      };
      const timer = setTimeout(
        () => done(new DynamicSecurityError(`no answer to ${names} within ${this.timeoutMs} ms; is the plugin loaded, and is MQTT_USERNAME its admin?`)),
        this.timeoutMs,
      );
      for (const { correlationData } of tagged) {
        this.waiting.set(correlationData, (response) => {
          answered.set(correlationData, response);
          if (answered.size === tagged.length) done();
        });
      }
      this.link
        .publish(CONTROL_TOPIC, Buffer.from(JSON.stringify({ commands: tagged })), { qos: 1 })
        .catch((error: unknown) => done(new DynamicSecurityError(`could not send ${names}: ${(error as Error).message}`)));
    });
    const failed = responses.find((response) => response.error !== undefined && !tolerate.includes(response.error));
    if (failed) throw new DynamicSecurityError(`${failed.command} failed: ${failed.error}`);
    return responses;
  }

  private settle(payload: Buffer): void {
    let responses: Response[];
    try {
      responses = (JSON.parse(payload.toString()) as { responses?: Response[] }).responses ?? [];
    } catch {
      return;
    }
    for (const response of responses) {
      const resolve = response.correlationData === undefined ? undefined : this.waiting.get(response.correlationData);
      if (!resolve) continue;
      this.waiting.delete(response.correlationData!);
      resolve(response);
    }
  }
}
