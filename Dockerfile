# syntax=docker/dockerfile:1
# fleetgate image: `fleetgate serve` (admission webhook) and `fleetgate scan` (fleet scan) from one image.
#
#   docker build -t fleetgate:dev .
#   docker run --rm fleetgate:dev policies
#
# Stage 1 compiles TypeScript with the dev dependencies; stage 2 holds only bin/, dist/, package.json and the
# production node_modules, runs as a non-root user and works with a read-only root filesystem (the only writable
# path it needs is /tmp, where compiled user policies are cached: mount an emptyDir there).

ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc before the sources are here; esbuild's platform binary comes from its
# optional dependency package and needs no install script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY policies ./policies
COPY webhook ./webhook
COPY scanner ./scanner
COPY history ./history
COPY watch ./watch
COPY scripts/bundle-dist.mjs ./scripts/
# the built-in packs folded into one module: a run loads one file instead of fifty (scripts/bundle-dist.mjs)
RUN npx tsc -p tsconfig.json && node scripts/bundle-dist.mjs

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# isolated-vm (the user-policy sandbox) and better-sqlite3 (the embedded history store) are native modules: built
# here with node-gyp against the image's own Node headers (no download), then the toolchain stays in this stage.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm_config_nodedir=/usr/local npm rebuild isolated-vm better-sqlite3 && npm cache clean --force

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="fleetgate" \
      org.opencontainers.image.description="Policy-as-code compliance for fleets of Kubernetes clusters" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOME=/home/node \
    TMPDIR=/tmp \
    FLEETGATE_CACHE_DIR=/tmp/fleetgate-cache
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --chown=root:root bin ./bin
COPY --chown=root:root package.json ./
# The app is owned by root and not writable by the runtime user; uid 1000 is the base image's `node` user.
# Numeric USER so that runAsNonRoot can verify it without a passwd lookup.
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "/app/bin/fleetgate"]
CMD ["serve"]
