import { buildApp } from './app.ts';
import { ConfigError, loadConfig, redactConfig } from './config/load.ts';
import { bundleElements } from './http/static-pages.ts';
import { installLastResortHandlers } from './platform/last-resort.ts';
import { createPrettyDestination } from './platform/log-format.ts';

/** How long in-flight requests may take to finish after SIGTERM; under the 10 s that Docker and Kubernetes wait before SIGKILL. */
const DRAIN_MS = 6_000;
/** After that, how long the workers and the database may take to close. */
const CLOSE_MS = DRAIN_MS + 2_000;

/** Process entry: config -> app -> listen; closes gracefully on SIGTERM / SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`latchkey: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  // A person at a terminal reads lines; anything else (a pipe, a file, a collector) gets JSON.
  const app = await buildApp(config, process.stdout.isTTY ? { logDestination: createPrettyDestination(process.stdout) } : {});
  app.log.info({ config: redactConfig(config) }, 'configuration');
  let closing = false;
  let closingSince = 0;
  // Once shutdown has begun, every response also closes its connection: keep-alive clients
  // (proxies, load generators) would otherwise hold the drain open until DRAIN_MS.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // SIGTERM (docker stop, systemd, Kubernetes, `kill`) or SIGINT (Ctrl-C): stop accepting, answer
  // requests already in flight (new ones on open connections get 503), then close the verify
  // workers and the database, all within DRAIN_MS. Past it, open connections are cut, so the
  // database still closes; past CLOSE_MS, the process exits without it. 0 means a clean stop.
  const close = async (signal: NodeJS.Signals) => {
    if (closing) {
      // Ctrl-C under `npm start` reaches the server twice at once: from the terminal (the whole
      // process group) and forwarded by npm. Only a later signal means "stop now".
      if (Date.now() - closingSince < 1_000) return;
      app.log.warn({ signal }, 'second signal: exiting without finishing');
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    closing = true;
    closingSince = Date.now();
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    let exitCode = 0;
    const cut = setTimeout(() => {
      exitCode = 1;
      app.log.error({ afterMs: DRAIN_MS }, 'requests still open at shutdown: closing their connections');
      app.server.closeAllConnections();
    }, DRAIN_MS);
    const giveUp = setTimeout(() => {
      app.log.fatal({ afterMs: CLOSE_MS }, 'shutdown did not finish: exiting without closing the database');
      process.exit(70); // EX_SOFTWARE
    }, CLOSE_MS);
    cut.unref();
    giveUp.unref();
    try {
      await app.close();
    } catch (err) {
      exitCode = 1;
      app.log.error({ err }, 'error while shutting down');
    }
    clearTimeout(cut);
    app.log.info({ exitCode }, 'stopped');
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void close('SIGTERM'));
  process.on('SIGINT', () => void close('SIGINT'));
  // Last resort (SEC-54): a stray rejection is logged and the process serves on; an uncaught exception is fatal.
  installLastResortHandlers(app.log);
  // Bundle the web components now rather than on the first visitor's request (tests stay lazy).
  bundleElements().catch((err: unknown) => app.log.warn({ err }, '/latchkey.js could not be bundled; it will be retried on request'));
  // Fastify's own line would read "Server listening at http://127.0.0.1:8080": not an address to open.
  await app.listen({ host: config.server.host, port: config.server.port, listenTextResolver: (address) => `bound to ${address.replace(/^https?:\/\//, '')}` });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  // The address to open is an allowed origin: WebAuthn refuses any other (http://127.0.0.1 when the RP ID is localhost).
  const url = `${config.rp.origins[0]}/`;
  const listening = `${config.server.host}:${port}`;
  const demo = config.server.demoEnabled ?? config.server.environment !== 'production';
  app.log.info(
    { url, listening, origins: config.rp.origins },
    demo ? `Latchkey is ready: open ${url} (listening on ${listening})` : `Latchkey is ready for ${url} (listening on ${listening})`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`latchkey: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
