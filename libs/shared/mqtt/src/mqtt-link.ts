import { EventEmitter } from 'node:events';
import { redactUrl } from '@loupe/config';
import { WakeableLoop } from '@loupe/service';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Backoff } from '@loupe/service';
import { holdAcknowledgements } from './held-acknowledgements';
import { DEFAULT_MAX_PACKET_BYTES, MqttPacketTooLargeError, publishPacketBytes } from './packet-size';
import { TopicRouter, type MqttAckingHandler, type MqttMessageHandler } from './topic-router';

export type MqttProtocolVersion = 4 | 5;
export type MqttLinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /**
   * false keeps the broker-side session (subscriptions, queued QoS 1
   * messages) across disconnects: MQTT 5 session expiry, or clean=false on
   * MQTT 3.1.1.
   */
  persistentSession: boolean;
  /** How long the broker keeps a persistent session after a disconnect (MQTT 5). */
  sessionExpirySeconds?: number;
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  /** The version to try first; 4 skips the MQTT 5 attempt for a known 3.1.1 broker. */
  protocolVersion?: MqttProtocolVersion;
  /**
   * A connection must stay up this long before the backoff starts small
   * again, so a broker that accepts and then drops us at once (a client id
   * taken over by another box, an ACL refusal) is not hammered.
   */
  stableAfterMs?: number;
  backoff?: Backoff;
  /**
   * Messages an `ackAfter` handler may be working on at once (default 256);
   * beyond it the link reads no more from the broker until one is done.
   */
  maxHandledAtOnce?: number;
  /**
   * Largest packet this link takes from the broker (default
   * DEFAULT_MAX_PACKET_BYTES). Sent as the MQTT 5 Maximum Packet Size
   * (section 3.1.2.11.4): the broker then discards a larger message for
   * this client instead of sending it. MQTT 3.1.1 has no such property.
   */
  maxPacketBytes?: number;
  logger: Logger;
}

/** Raised by publish() while the link is down; the caller keeps the message. */
export class MqttNotConnectedError extends Error {
  constructor(topic: string) {
    super(`MQTT link is not connected; not published to ${topic}`);
    this.name = 'MqttNotConnectedError';
  }
}

/**
 * The connection closed before the broker acknowledged a publish. The
 * message may or may not have arrived; the caller decides whether to send
 * it again.
 */
export class MqttConnectionLostError extends Error {
  constructor(topic: string) {
    super(`MQTT connection closed before the broker acknowledged the publish to ${topic}`);
    this.name = 'MqttConnectionLostError';
  }
}

interface Connection {
  client: MqttClient;
  /** Settles when this client's connection is gone for good. */
  closed: Promise<void>;
}

// CONNACK codes that mean "this broker does not speak the protocol version
// you asked for": 0x01 in MQTT 3.1.1 (section 3.2.2.3), 0x84 in MQTT 5
// (section 3.2.2.2). Brokers that predate MQTT 5 answer a v5 CONNECT with the
// 3.1.1 code.
const UNSUPPORTED_VERSION_CODES = new Set([1, 0x84]);

interface Subscription {
  filter: string;
  qos: 0 | 1;
  shareGroup?: string;
  sharedOnly?: boolean;
}

/**
 * One MQTT connection that keeps itself up. It speaks MQTT 5 and falls back
 * to 3.1.1 when the broker refuses 5 (the embedded Aedes broker does). It
 * reconnects with jittered, capped backoff, subscribes again on every
 * connect, and never queues publishes while down: mqtt.js's in-memory queue
 * is lost with the process, so durable delivery is the caller's job.
 *
 * Events: `connected` (protocol version), `disconnected` (error or undefined).
 */
export class MqttLink extends EventEmitter {
  private connection: Connection | undefined;
  private version: MqttProtocolVersion = 5;
  private current: MqttLinkState = 'disconnected';
  private readonly subscriptions: Subscription[] = [];
  private readonly router = new TopicRouter();
  private readonly backoff: Backoff;
  private readonly log: Logger;
  /** Connects, serves until the connection closes, and waits out the backoff; stop() cuts the wait short. */
  private readonly reconnects: WakeableLoop;
  /** What the broker's CONNACK said it takes, on MQTT 5. */
  private brokerMaxPacketBytes: number | undefined;

  constructor(private readonly options: MqttLinkOptions) {
    super();
    this.backoff = options.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 });
    this.version = options.protocolVersion ?? 5;
    this.log = options.logger.child({ component: 'mqtt-link', clientId: options.clientId });
    this.reconnects = new WakeableLoop(() => this.connectAgain(), {
      onError: (error) => this.log.error({ err: (error as Error).message }, 'MQTT link failed; reconnecting'),
    });
  }

  get state(): MqttLinkState {
    return this.current;
  }

  /** The protocol version agreed with the broker (5 until a broker refuses it). */
  get protocolVersion(): MqttProtocolVersion {
    return this.version;
  }

  get connected(): boolean {
    return this.current === 'connected';
  }

  /** Starts connecting in the background; the link retries until stop(). */
  start(): void {
    this.reconnects.start();
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  async waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new Error(`MQTT broker at ${redactUrl(this.options.url)} not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /**
   * Hands `handler` the messages whose topic matches `filter` (MQTT
   * wildcards; for a shared subscription, the filter without its
   * `$share/<group>/` prefix). Routing is separate from subscribe(): a
   * handler sees only its messages whatever else the link subscribes to.
   */
  onMessage(filter: string, handler: MqttMessageHandler): void {
    this.router.onMessage(filter, handler);
  }

  /**
   * Holds the PUBACK of each incoming message whose topic matches `filter`
   * until `handler` settles (with several matching handlers, until all
   * have), for consumers that must store a message before the broker may
   * forget it.
   * Up to `maxHandledAtOnce` messages are handled at once, so a consumer can
   * store them in batches; PUBACKs go out in arrival order. A handler that
   * rejects drops the connection with its message and every later one
   * unacknowledged, so the broker delivers them again after the reconnect
   * (with a persistent session). The handler should not wait for the
   * broker's PUBACK of its own publishes: with the limit reached, that
   * PUBACK waits behind the messages being handled.
   */
  ackAfter(filter: string, handler: MqttAckingHandler): void {
    this.router.ackAfter(filter, handler);
  }

  /**
   * Subscribes now if connected, and again after every reconnect. With a
   * share group on MQTT 5 the broker hands each message to one member of
   * the group (section 4.8.2); on 3.1.1 the subscription is a plain one.
   */
  async subscribe(filter: string, qos: 0 | 1, options: { shareGroup?: string; sharedOnly?: boolean } = {}): Promise<void> {
    const subscription = { filter, qos, ...options };
    this.subscriptions.push(subscription);
    const effective = this.effectiveFilter(subscription);
    if (this.connection && this.connected && effective) await this.connection.client.subscribeAsync(effective, { qos });
  }

  /**
   * The filter to send, or undefined for a `sharedOnly` subscription on
   * 3.1.1: extra consumers in one process only help when the broker splits
   * messages between them; otherwise each would get every message.
   */
  private effectiveFilter({ filter, shareGroup, sharedOnly }: Subscription): string | undefined {
    if (shareGroup !== undefined && this.version === 5) return `$share/${shareGroup}/${filter}`;
    return sharedOnly ? undefined : filter;
  }

  /**
   * Publishes once. Resolves when the broker acknowledged it (QoS 1) or it
   * was written to the socket (QoS 0); throws MqttNotConnectedError while
   * down, MqttPacketTooLargeError for a packet the broker said it refuses,
   * and MqttConnectionLostError when the connection closes first.
   * mqtt.js would otherwise keep an unacknowledged QoS 1 publish of a
   * persistent session pending forever.
   */
  async publish(topic: string, payload: Buffer | Uint8Array, options: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    const connection = this.connection;
    if (!connection || !this.connected) throw new MqttNotConnectedError(topic);
    const packetBytes = publishPacketBytes(topic, payload.byteLength, options.qos, this.version);
    if (this.brokerMaxPacketBytes !== undefined && packetBytes > this.brokerMaxPacketBytes) {
      throw new MqttPacketTooLargeError(topic, packetBytes, this.brokerMaxPacketBytes);
    }
    const lost = connection.closed.then(() => {
      throw new MqttConnectionLostError(topic);
    });
    await Promise.race([
      connection.client.publishAsync(topic, Buffer.from(payload), { qos: options.qos, retain: options.retain ?? false }),
      lost,
    ]);
  }

  /** Disconnects cleanly and stops reconnecting. */
  async stop(): Promise<void> {
    this.current = 'stopped';
    const reconnectsEnded = this.reconnects.stop();
    const client = this.connection?.client;
    // A graceful DISCONNECT tells the broker not to publish a will message.
    if (client) await client.endAsync(!client.connected);
    await reconnectsEnded;
    this.connection = undefined;
  }

  // A method, not an inline comparison: stop() changes the state while a connection is served.
  private isStopped(): boolean {
    return this.current === 'stopped';
  }

  /** One connection from connect to close; returns how long to wait before the next. */
  private async connectAgain(): Promise<number> {
    try {
      if ((await this.connectAndServe()) === 'retry-with-3.1.1') return 0;
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'MQTT link failed; reconnecting');
    }
    return this.isStopped() ? 0 : this.backoff.next();
  }

  /** One connection from connect to close. */
  private async connectAndServe(): Promise<'closed' | 'retry-with-3.1.1'> {
    this.current = 'connecting';
    const connection = this.createConnection();
    this.connection = connection;
    const { client } = connection;
    try {
      const outcome = await this.connectOnce(client);
      if (outcome !== 'connected') return outcome === 'retry-with-3.1.1' ? outcome : 'closed';
      const connectedAt = performance.now();
      let lastError: Error | undefined;
      client.on('error', (error) => (lastError = error));
      await this.onConnected(client);
      await connection.closed;
      if (performance.now() - connectedAt >= (this.options.stableAfterMs ?? 10_000)) this.backoff.reset();
      if (!this.isStopped()) {
        this.current = 'disconnected';
        this.log.warn({ err: lastError?.message }, 'MQTT connection lost');
        this.emit('disconnected', lastError);
      }
      return 'closed';
    } finally {
      client.removeAllListeners();
      // A late socket error must not reach an EventEmitter with no listener.
      client.on('error', () => undefined);
      client.end(true);
    }
  }

  private createConnection(): Connection {
    const client = this.createClient();
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    return { client, closed };
  }

  private createClient(): MqttClient {
    const { options } = this;
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      protocolVersion: this.version,
      clean: !options.persistentSession,
      keepalive: options.keepaliveSeconds ?? 30,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // Reconnects are ours (with backoff), and so is any queueing.
      reconnectPeriod: 0,
      queueQoSZero: false,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(this.version === 5
        ? {
            properties: {
              maximumPacketSize: options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES,
              ...(options.persistentSession ? { sessionExpiryInterval: options.sessionExpirySeconds ?? 7 * 24 * 3600 } : {}),
            },
          }
        : {}),
    };
    const client = mqtt.connect(options.url, clientOptions);
    // An 'error' event without a listener would crash the process; the
    // connect and close paths below decide what each error means.
    client.on('error', (error) => this.log.debug({ err: error.message }, 'MQTT client error'));
    client.on('message', (topic, payload, packet) =>
      this.router.deliver(topic, payload, packet, (error) => this.log.error({ topic, err: error.message }, 'MQTT message handler failed')),
    );
    holdAcknowledgements(client, (topic, payload) => this.router.handle(topic, payload), {
      maxHeld: options.maxHandledAtOnce ?? 256,
      onFailure: (error, topic) => {
        this.log.error({ topic, err: error.message }, 'message not handled; reconnecting so the broker sends it again');
        client.end(true);
      },
    });
    client.on('disconnect', (packet) =>
      this.log.warn({ reasonCode: packet.reasonCode, reason: packet.properties?.reasonString }, 'broker ended the connection'),
    );
    return client;
  }

  private connectOnce(client: MqttClient): Promise<'connected' | 'failed' | 'retry-with-3.1.1'> {
    return new Promise((resolve) => {
      const settle = (outcome: 'connected' | 'failed' | 'retry-with-3.1.1') => {
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
        resolve(outcome);
      };
      const onConnect = (connack: IConnackPacket) => {
        this.brokerMaxPacketBytes = connack.properties?.maximumPacketSize;
        settle('connected');
      };
      const onError = (error: Error & { code?: unknown }) => {
        if (this.version === 5 && typeof error.code === 'number' && UNSUPPORTED_VERSION_CODES.has(error.code)) {
          this.log.warn('broker refused MQTT 5; using MQTT 3.1.1 (no shared subscriptions or session expiry)');
          this.version = 4;
          settle('retry-with-3.1.1');
          return;
        }
        this.log.warn({ err: error.message }, 'MQTT connect failed');
      };
      const onClose = () => settle('failed');
      client.on('connect', onConnect);
      client.on('error', onError);
      client.on('close', onClose);
    });
  }

  private async onConnected(client: MqttClient): Promise<void> {
    this.current = 'connected';
    this.log.info({ protocolVersion: this.version, url: redactUrl(this.options.url) }, 'MQTT connected');
    try {
      for (const subscription of this.subscriptions) {
        const effective = this.effectiveFilter(subscription);
        if (effective) await client.subscribeAsync(effective, { qos: subscription.qos });
      }
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'MQTT subscribe failed; reconnecting');
      client.end(true);
      return;
    }
    this.emit('connected', this.version);
  }
}
