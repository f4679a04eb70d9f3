import { buildApp } from './app.ts';
import { ConfigError, loadConfig, redactConfig } from './config/load.ts';
import { bundleElements } from './http/static-pages.ts';
import { installLastResortHandlers } from './platform/last-resort.ts';

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
  const app = await buildApp(config);
  app.log.info({ config: redactConfig(config) }, 'configuration');
  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void close('SIGTERM'));
  process.on('SIGINT', () => void close('SIGINT'));
  // Last resort (SEC-54): a stray rejection is logged and the process serves on; an uncaught exception is fatal.
  installLastResortHandlers(app.log);
  // Bundle the web components now rather than on the first visitor's request (tests stay lazy).
  bundleElements().catch((err: unknown) => app.log.warn({ err }, '/latchkey.js could not be bundled; it will be retried on request'));
  await app.listen({ host: config.server.host, port: config.server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  app.log.info(`Latchkey is listening on http://${config.server.host === '0.0.0.0' ? 'localhost' : config.server.host}:${port} (origins: ${config.rp.origins.join(', ')})`);
}

main().catch((error: unknown) => {
  process.stderr.write(`latchkey: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
