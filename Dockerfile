# Latchkey server image. Multi-stage: the build stage installs everything and compiles the server;
# the final stage holds only the compiled server, its data files, the demo and the production
# dependencies, and runs as the unprivileged `node` user (uid 1000).
#
#   docker build -t latchkey .                      # FROM node:24-slim
#   docker run -p 8080:8080 -v latchkey-data:/data --read-only \
#     -e LATCHKEY_RP_ID=example.com -e LATCHKEY_ORIGINS=https://example.com latchkey
#
# BASE is any Debian-based image with Node 24 and npm and a `node` user with uid 1000, e.g. one
# built locally without a registry (scripts/container.mjs does that for the tests).
ARG BASE=node:24-slim

FROM ${BASE} AS build
# Only for builds behind a TLS-intercepting proxy: a CA file (mounted for the build) that npm trusts.
ARG NODE_EXTRA_CA_CERTS=
WORKDIR /src
# Manifests first, so that the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY packages/server/package.json packages/server/
COPY packages/sdk/package.json packages/sdk/
COPY packages/elements/package.json packages/elements/
COPY packages/console/package.json packages/console/
COPY packages/testkit/package.json packages/testkit/
COPY examples/demo/package.json examples/demo/
COPY bench/package.json bench/
COPY e2e/package.json e2e/
RUN npm install --no-audit --no-fund --loglevel=error
COPY . .
RUN node scripts/build-server.mjs \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error \
 # The bundle /latchkey.js is prebuilt in dist, so esbuild (a dependency for running from source)
 # is not needed; workspace links would dangle.
 && rm -rf node_modules/esbuild node_modules/@esbuild node_modules/@latchkey node_modules/.package-lock.json \
 && find node_modules -depth -type d -empty -delete \
 && mkdir -p /app/packages/server /app/examples/demo /data \
 && cp -r package.json node_modules /app/ \
 && cp -r packages/server/package.json packages/server/dist packages/server/data /app/packages/server/ \
 && cp -r examples/demo/public /app/examples/demo/

FROM ${BASE}
ENV NODE_ENV=production \
    LATCHKEY_ENV=production \
    LATCHKEY_HOST=0.0.0.0 \
    LATCHKEY_PORT=8080 \
    LATCHKEY_DATABASE_URL=sqlite:/data/latchkey.db
WORKDIR /app
COPY --from=build /app /app
# The only writable place the server needs (SQLite); the root filesystem can be read-only.
COPY --from=build --chown=1000:1000 /data /data
VOLUME /data
USER 1000:1000
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.LATCHKEY_PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and the server itself: SIGTERM drains requests and closes the database (main.ts).
# The flags of `npm start` (scripts/server-node-flags.mjs).
CMD ["node", "--max-semi-space-size=16", "packages/server/dist/main.js"]
