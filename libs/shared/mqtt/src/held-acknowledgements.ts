import type { IPublishPacket, MqttClient, Packet } from 'mqtt';
import type { MqttAckingHandler } from './topic-router';

type SendPacket = (packet: Packet, callback?: (error?: Error) => void, ...rest: unknown[]) => void;

export interface HeldAcknowledgementOptions {
  /** Messages handled at once on the connection; the next waits in the socket beyond it. */
  maxHeld: number;
  /** A handler failed: the connection should go, so the broker sends its unacknowledged messages again. */
  onFailure: (error: Error, topic: string) => void;
}

/**
 * Lets one connection handle many messages at once while acknowledging each
 * QoS 1 message only after its handler settles, in the order the messages
 * arrived (MQTT 5 section 4.6 asks for that order).
 *
 * mqtt.js sends a message's PUBACK as soon as `handleMessage` calls back, and
 * reads no further packet until that PUBACK is written: holding the callback
 * limits a connection to one message per storage round trip. So the callback
 * goes at once and the PUBACK itself is held, by wrapping mqtt.js's private
 * `_sendPacket` (mqtt 5.x, pinned in package.json; mqtt-link.test.ts covers
 * the behaviour against a real broker).
 */
export function holdAcknowledgements(client: MqttClient, handle: MqttAckingHandler, options: HeldAcknowledgementOptions): void {
  const internals = client as unknown as { _sendPacket: SendPacket };
  const held = new HeldAcknowledgements(client, internals._sendPacket.bind(client), handle, options);
  client.handleMessage = (packet: IPublishPacket, done) => held.handleMessage(packet, done);
  internals._sendPacket = (packet, callback, ...rest) => held.sendPacket(packet, callback, ...rest);
}

/** The PUBACKs of one connection, each held until its message's handler settles. */
class HeldAcknowledgements {
  /** QoS 1 messages whose PUBACK mqtt.js has not asked to send yet. */
  private readonly handling = new Map<number, { handled: Promise<void>; topic: string }>();
  /** Settles when every PUBACK held so far has gone out, in arrival order. */
  private released = Promise.resolve();
  private held = 0;
  private failed = false;
  /** Lets mqtt.js read the next packet; kept while `maxHeld` PUBACKs are held. */
  private readNext: (() => void) | undefined;

  constructor(
    private readonly client: MqttClient,
    private readonly send: SendPacket,
    private readonly handle: MqttAckingHandler,
    private readonly options: HeldAcknowledgementOptions,
  ) {}

  handleMessage(packet: IPublishPacket, done: (error?: Error) => void): void {
    const handled = this.handle(packet.topic, packet.payload as Buffer);
    if (packet.qos !== 1 || packet.messageId === undefined) {
      handled.then(() => done(), (error: unknown) => this.fail(error, packet.topic));
      return;
    }
    // Awaited in turn below; a rejection before its turn is not unhandled.
    handled.catch(() => undefined);
    this.handling.set(packet.messageId, { handled, topic: packet.topic });
    // mqtt.js now calls _sendPacket with this message's PUBACK.
    done();
  }

  sendPacket(packet: Packet, callback?: (error?: Error) => void, ...rest: unknown[]): void {
    const messageId = packet.cmd === 'puback' ? packet.messageId : undefined;
    const message = messageId === undefined ? undefined : this.handling.get(messageId);
    if (messageId === undefined || !message) {
      this.send(packet, callback, ...rest);
      return;
    }
    this.handling.delete(messageId);
    this.hold(packet, message);
    if (this.held < this.options.maxHeld) callback?.();
    else this.readNext = () => callback?.();
  }

  /** Sends `puback` once its message is handled and every earlier PUBACK has gone. */
  private hold(puback: Packet, message: { handled: Promise<void>; topic: string }): void {
    this.held++;
    // A failure stops the chain: no later PUBACK goes out on this connection,
    // which is closing, and the broker sends those messages again.
    this.released = this.released.then(
      () => message.handled,
    ).then(
      () => {
        if (!this.failed && this.client.connected) this.send(puback);
        this.held--;
        this.readNextIfRoom();
      },
      (error: unknown) => {
        this.fail(error, message.topic);
        throw error;
      },
    );
    this.released.catch(() => undefined);
  }

  private readNextIfRoom(): void {
    if (this.readNext && this.held < this.options.maxHeld) {
      const next = this.readNext;
      this.readNext = undefined;
      next();
    }
  }

  private fail(error: unknown, topic: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onFailure(error as Error, topic);
  }
}
