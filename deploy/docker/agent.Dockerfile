# The Loupe edge agent for x86-64 boxes without a GPU: ONNX Runtime's CPU
# provider, which ships inside onnxruntime-node. Jetson boxes use deploy/jetson/.
# Build from the repository root:
#   docker build -f deploy/docker/agent.Dockerfile -t loupe/agent:local .
# Runs the esbuild bundle (`nx run edge-agent:build`), not the TypeScript
# sources: no tsx or compiler in the image, and only production dependencies.

FROM node:20.20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# postinstall generates the cloud's Prisma client, which the workspace's typecheck needs.
COPY apps/cloud/prisma apps/cloud/prisma
COPY apps/cloud/prisma.config.ts apps/cloud/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nx run edge-agent:build --skip-nx-cache

# Production dependencies only. Install scripts are skipped: onnxruntime-node's
# would fetch the CUDA/TensorRT providers this image does not use.
FROM node:20.20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20.20-bookworm-slim
# Everything the agent keeps lives under /var/lib/loupe/edge: mount one
# persistent volume there so enrollment, the outbox and models survive restarts.
ENV NODE_ENV=production \
    EXECUTION_PROVIDERS=cpu \
    GRPC_HOST=0.0.0.0 \
    STATUS_HOST=0.0.0.0 \
    DEVICE_CREDENTIALS_FILE=/var/lib/loupe/edge/credentials.json \
    REGISTRY_KEYS_FILE=/var/lib/loupe/edge/registry-keys.json \
    OUTBOX_DIR=/var/lib/loupe/edge/outbox \
    MODELS_DIR=/var/lib/loupe/edge/models \
    TENSORRT_ENGINE_CACHE_DIR=/var/lib/loupe/edge/engine-cache
WORKDIR /app
# package.json: "type": "module" makes node load main.js as ESM.
COPY package.json ./
COPY --from=dependencies /app/node_modules node_modules
COPY --from=build /src/dist/apps/edge-agent dist/apps/edge-agent
# A named volume mounted here takes this owner, so the agent can write to it.
RUN mkdir -p /var/lib/loupe/edge && chown -R node:node /var/lib/loupe
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 50051 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/edge-agent/src/main.js"]
