# Node.js, pinned: the current LTS line (Node 20 is past its end of life). Bump deliberately.
ARG NODE_IMAGE=node:26.10.0-trixie-slim

# Build stage: compile with the Nest CLI (runs the swagger plugin). The service's types refer to
# the sandbox package, so it is built here too; it never reaches the runtime stage.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm workspaces: each package's manifest, so that `npm ci` matches the lockfile.
COPY packages/twilio-sandbox/package.json ./packages/twilio-sandbox/
COPY packages/sdk/package.json ./packages/sdk/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY packages/twilio-sandbox/tsconfig.json ./packages/twilio-sandbox/
COPY packages/twilio-sandbox/src ./packages/twilio-sandbox/src
COPY src ./src
COPY migrations ./migrations
# --workspaces=false: a plain prune keeps the workspace packages linked into node_modules.
RUN npm run build && npm prune --omit=dev --workspaces=false --no-audit --no-fund

# Runtime stage: compiled code and production dependencies only.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8000
# Liveness, not readiness: Docker acts on "unhealthy" by replacing the container, which would not
# help when the database or Twilio is down. It never calls Twilio. Load balancers use health/ready.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/api/phone/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains in-flight requests and exits within SHUTDOWN_TIMEOUT_MS (10 s), the same as
# Docker's default stop grace period.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
