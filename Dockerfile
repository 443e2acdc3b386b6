# syntax=docker/dockerfile:1
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates tini bubblewrap \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    WORK_DIR=/work
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
COPY package.json app.yml ./
RUN mkdir -p /work && chown node:node /work
USER node
EXPOSE 3000
# tini reaps the agents' child processes and forwards SIGTERM for a graceful stop.
# Every command runs in a bubblewrap sandbox, which needs user namespaces: run with
# --security-opt seccomp=unconfined --security-opt apparmor=unconfined (or an equivalent profile).
ENTRYPOINT ["/usr/bin/tini", "--"]
# the image is built already: --ignore-scripts skips the `prestart` rebuild (no TypeScript in production deps)
CMD ["npm", "start", "--ignore-scripts"]
