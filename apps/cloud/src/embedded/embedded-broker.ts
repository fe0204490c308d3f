import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { BrokerPrincipal, MqttAction } from '@loupe/topics';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { withPacketSizeLimit } from './packet-size-limit';

export interface EmbeddedBroker {
  url: string;
  /** Ends the session of a connected client, e.g. a device whose credentials were revoked. */
  disconnect(clientId: string): void;
  stop(): Promise<void>;
}

export type ConnectRefusal = 'anonymous' | 'bad-credentials' | 'wrong-client-id';
export type ConnectVerdict = { principal: BrokerPrincipal } | { refused: ConnectRefusal };

/** Who may connect, and what each may publish and subscribe to. */
export interface BrokerGate {
  connect(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<ConnectVerdict>;
  allows(principal: BrokerPrincipal, action: MqttAction, topic: string): boolean;
}

// CONNACK return codes, MQTT 3.1.1 section 3.2.2.3.
const RETURN_CODES: Record<ConnectRefusal, number> = { 'wrong-client-id': 2, 'bad-credentials': 4, anonymous: 5 };

/** An error carrying the CONNACK return code Aedes answers with. */
function connackError(returnCode: number, message: string): AuthenticateError {
  return Object.assign<Error, { returnCode: number }>(new Error(message), { returnCode });
}

/**
 * An MQTT broker inside the cloud process, for one machine. Aedes speaks
 * MQTT 3.1.1 only: clients fall back from MQTT 5, and shared subscriptions
 * are not needed because this process is the only consumer. It keeps
 * sessions and retained messages in memory. Every client signs in; the gate
 * decides who, and what each may touch. A client that sends a packet
 * larger than `maxPacketBytes` is disconnected at its header (Aedes itself
 * has no limit, and would buffer up to 256 MiB).
 */
export async function startEmbeddedBroker(
  options: { host: string; port: number; maxPacketBytes: number },
  gate: BrokerGate,
  logger: Logger,
): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker(gateHooks(gate, logger));
  const connected = connectedClients(broker);
  const { server, sockets } = await listen(broker, options, logger);
  const { port } = server.address() as AddressInfo;
  const url = `mqtt://${options.host}:${port}`;
  logger.info({ url }, 'embedded MQTT broker (Aedes) started');
  return {
    url,
    disconnect: (clientId) => {
      const client = connected.get(clientId);
      if (!client) return;
      logger.info({ clientId }, 'disconnecting MQTT client');
      client.close();
    },
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Aedes' authentication and authorization hooks, answered by the gate. */
function gateHooks(gate: BrokerGate, logger: Logger): AedesOptions {
  // The principal a client signed in as, for the ACL checks on what it sends afterwards.
  const principals = new WeakMap<Client, BrokerPrincipal>();
  return {
    authenticate: (client, username, password, done) => {
      gate.connect(client.id, username, password).then(
        (verdict) => {
          if ('refused' in verdict) {
            logger.warn({ clientId: client.id, username, refused: verdict.refused }, 'MQTT connection refused');
            done(connackError(RETURN_CODES[verdict.refused], `connection refused: ${verdict.refused}`), false);
            return;
          }
          principals.set(client, verdict.principal);
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ clientId: client.id, err: (error as Error).message }, 'could not check MQTT credentials; refusing the connection');
          done(connackError(3, 'server unavailable'), false);
        },
      );
    },
    // A refused PUBLISH ends the connection: MQTT 3.1.1 has no way to say no to one.
    authorizePublish: (client, packet, done) => {
      // Aedes publishes its own $SYS messages without a client.
      if (!client) return done(null);
      const principal = principals.get(client);
      if (principal && gate.allows(principal, 'publish', packet.topic)) return done(null);
      logger.warn({ clientId: client.id, topic: packet.topic }, 'MQTT publish refused by the ACL; disconnecting');
      done(new Error(`not allowed to publish to ${packet.topic}`));
    },
    // A refused SUBSCRIBE gets return code 0x80 in its SUBACK (section 3.9.3); the connection stays.
    authorizeSubscribe: (client, subscription, done) => {
      const principal = principals.get(client);
      if (principal && gate.allows(principal, 'subscribe', subscription.topic)) return done(null, subscription);
      logger.warn({ clientId: client.id, filter: subscription.topic }, 'MQTT subscription refused by the ACL');
      done(null, null);
    },
  };
}

/** The connected clients by id, for `disconnect`. A client that took over an id keeps it when the old one goes. */
function connectedClients(broker: Aedes): Map<string, Client> {
  const connected = new Map<string, Client>();
  broker.on('clientReady', (client) => connected.set(client.id, client));
  broker.on('clientDisconnect', (client) => {
    if (connected.get(client.id) === client) connected.delete(client.id);
  });
  return connected;
}

/** Listens for MQTT over TCP; the sockets are kept so that stop() can end them. */
async function listen(
  broker: Aedes,
  options: { host: string; port: number; maxPacketBytes: number },
  logger: Logger,
): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const client = broker.handle(
      withPacketSizeLimit(socket, options.maxPacketBytes, (packetBytes) =>
        logger.warn({ clientId: client.id, packetBytes, maxPacketBytes: options.maxPacketBytes }, 'MQTT packet larger than the limit; connection closed'),
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `EMBEDDED_MQTT_PORT ${options.port} is taken on ${options.host}; set EMBEDDED_MQTT_PORT to a free port, or MQTT_URL to use that broker`,
            )
          : error,
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  return { server, sockets };
}
