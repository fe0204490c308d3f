# The Loupe cloud (REST, gRPC, MQTT ingest) with the labeler UI, for x86-64.
# Build from the repository root:
#   docker build -f deploy/docker/cloud.Dockerfile -t loupe/cloud:local .
# Runs the esbuild bundle (`nx run cloud:build`), not the TypeScript sources:
# no tsx or compiler in the image, and only production dependencies.

FROM node:20.20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# postinstall generates the Prisma client from the schema.
COPY apps/cloud/prisma apps/cloud/prisma
COPY apps/cloud/prisma.config.ts apps/cloud/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nx run cloud:build --skip-nx-cache && npm run build:web

# Production dependencies only. Install scripts are skipped: the Prisma client
# is bundled into main.js, and onnxruntime-node's CPU provider and sharp's
# libvips ship inside their packages.
FROM node:20.20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    GRPC_HOST=0.0.0.0 \
    DATA_DIR=/var/lib/loupe \
    LABELER_WEB_DIR=/app/dist/apps/labeler-web
WORKDIR /app
# package.json: "type": "module" makes node load main.js as ESM.
COPY package.json ./
COPY --from=dependencies /app/node_modules node_modules
COPY --from=build /src/dist/apps/cloud dist/apps/cloud
COPY --from=build /src/dist/apps/labeler-web dist/apps/labeler-web
# A named volume mounted here takes this owner, so the cloud can write to it.
RUN mkdir -p /var/lib/loupe && chown node:node /var/lib/loupe
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 8080 50052
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/cloud/src/main.js"]
