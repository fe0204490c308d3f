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
  const send = internals._sendPacket.bind(client);
  const handling = new Map<number, { handled: Promise<void>; topic: string }>();
  let released = Promise.resolve();
  let held = 0;
  let failed = false;
  let readNext: (() => void) | undefined;

  const fail = (error: unknown, topic: string) => {
    if (failed) return;
    failed = true;
    options.onFailure(error as Error, topic);
  };

  client.handleMessage = (packet: IPublishPacket, done) => {
    const handled = handle(packet.topic, packet.payload as Buffer);
    if (packet.qos !== 1 || packet.messageId === undefined) {
      handled.then(() => done(), (error: unknown) => fail(error, packet.topic));
      return;
    }
    // Awaited in turn below; a rejection before its turn is not unhandled.
    handled.catch(() => undefined);
    handling.set(packet.messageId, { handled, topic: packet.topic });
    // mqtt.js now calls _sendPacket with this message's PUBACK.
    done();
  };

  internals._sendPacket = (packet, callback, ...rest) => {
    const messageId = packet.cmd === 'puback' ? packet.messageId : undefined;
    const message = messageId === undefined ? undefined : handling.get(messageId);
    if (messageId === undefined || !message) {
      send(packet, callback, ...rest);
      return;
    }
    handling.delete(messageId);
    held++;
    // A failure stops the chain: no later PUBACK goes out on this connection,
    // which is closing, and the broker sends those messages again.
    released = released.then(
      () => message.handled,
    ).then(
      () => {
        if (!failed && client.connected) send(packet);
        held--;
        if (readNext && held < options.maxHeld) {
          const next = readNext;
          readNext = undefined;
          next();
        }
      },
      (error: unknown) => {
        fail(error, message.topic);
        throw error;
      },
    );
    released.catch(() => undefined);
    if (held < options.maxHeld) callback?.();
    else readNext = () => callback?.();
  };
}
