# syntax=docker/dockerfile:1
# Production SystemTap agent image: the agent plus systemtap and a compiler (stap builds
# a kernel module per script). Used only for SystemTap runs (agent.systemtapImage);
# same layout as the local builder (images/build.sh agent-systemtap).
# Pin the base by digest in CI/release (replace the tag with debian:trixie-slim@sha256:<digest>).
ARG DEBIAN_IMAGE=debian:trixie-slim

FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && mkdir -p /out/opt/tracejob \
 && cp -a dist package.json package-lock.json node_modules /out/opt/tracejob/

FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends bpftrace nodejs ca-certificates systemtap gcc make libc6-dev \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
COPY --from=build /out/ /
ENV NODE_ENV=production
WORKDIR /opt/tracejob
# Runs as root: stap loads modules / bpftrace needs CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN in a privileged, hostPID node pod.
ENTRYPOINT ["node", "/opt/tracejob/dist/agent/main.js"]
