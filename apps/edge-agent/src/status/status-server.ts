import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttLink } from '@loupe/mqtt';
import type { AgentMetrics } from './agent-metrics';
import type { AgentStatus } from './agent-status';

export interface StatusServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * The agent's HTTP face for operators: `/metrics` for Prometheus and
 * `/healthz` for supervisors. Health stays 200 while the broker is away:
 * the agent's job is to keep inspecting offline, not to be restarted.
 */
export async function startStatusServer(
  options: { host: string; port: number; siteId: string; deviceId: string },
  parts: { status: AgentStatus; metrics: AgentMetrics; link: MqttLink },
): Promise<StatusServer> {
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      parts.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'Content-Type': parts.metrics.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
      return;
    }
    if (request.method === 'GET' && request.url === '/healthz') {
      const body = {
        status: 'ok',
        siteId: options.siteId,
        deviceId: options.deviceId,
        ...parts.status.snapshot(),
        mqtt: { state: parts.link.state, protocolVersion: parts.link.protocolVersion },
      };
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    response.writeHead(404, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({ error: 'not_found', message: `no route for ${request.method} ${request.url}; try /healthz or /metrics` }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`STATUS_PORT ${options.port} is taken; set STATUS_PORT to a free port`) : error),
    );
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
