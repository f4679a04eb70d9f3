import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type DeepPartial } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createDatabase, type DatabaseHandle, type Dialect } from '../../src/db/create-db.ts';
import { createTestClock } from '../../src/platform/clock.ts';
import { TestClient } from './test-client.ts';

/** The databases the suite runs on: `TEST_DIALECTS=sqlite,postgres` (scripts/test.mjs sets it and starts PostgreSQL). */
export const dialects: Dialect[] = (process.env.TEST_DIALECTS ?? 'sqlite').split(',').map((d) => d.trim()) as Dialect[];

/** The origin test clients claim to be; the server listens on a random port, as behind a proxy. */
export const TEST_ORIGIN = 'http://localhost:8080';
export const TEST_RP_ID = 'localhost';

export interface TestServer {
  app: FastifyInstance;
  /** Base URL of the listening server, e.g. http://127.0.0.1:40123 */
  url: string;
  dialect: Dialect;
  database: DatabaseHandle;
  clock: ReturnType<typeof createTestClock>;
  config: Readonly<Config>;
  /** A new client with its own cookie jar (a new browser). */
  client(options?: { origin?: string | null }): TestClient;
  close(): Promise<void>;
}

/** A port nobody listens on right now, for servers whose origin must be known before they start. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
    server.on('error', reject);
  });
}

/** A fresh, empty database of the given dialect; PostgreSQL gets its own database on the test cluster. */
export async function createTestDatabase(dialect: Dialect): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = `/tmp/latchkey-test-${process.pid}-${randomBytes(6).toString('hex')}`;
    return {
      url: `sqlite:${dir}/test.db`,
      drop: async () => {
        const { rm } = await import('node:fs/promises');
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const admin = process.env.LATCHKEY_TEST_PG_URL;
  if (!admin) throw new Error('TEST_DIALECTS includes postgres but LATCHKEY_TEST_PG_URL is not set: run the suite with `npm test`, which starts PostgreSQL');
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Starts a real Latchkey server on 127.0.0.1 with a fresh database and a test clock.
 * Verification runs in-process unless `verifyWorkers` is set, to keep test start-up fast.
 */
export async function startTestServer(
  dialect: Dialect,
  options: {
    config?: DeepPartial<Config>;
    /** Listen on this port (browser tests need the origin up front); random by default. */
    port?: number;
    /** A pino logger configuration (e.g. a stream that captures every line) instead of the silent default. */
    logger?: FastifyServerOptions['logger'];
  } = {},
): Promise<TestServer> {
  const testDb = await createTestDatabase(dialect);
  const config = loadConfig({
    env: {},
    overrides: {
      ...options.config,
      server: { verifyWorkers: 0, port: 0, ...options.config?.server },
      signup: { perIpPerHour: 100_000, ...options.config?.signup },
      auth: { perIpPerHour: 100_000, ...options.config?.auth },
      rp: { id: TEST_RP_ID, origins: [TEST_ORIGIN], ...options.config?.rp },
      database: { url: testDb.url, poolSize: 5, ...options.config?.database },
      log: { level: (process.env.LATCHKEY_TEST_LOG as Config['log']['level']) ?? 'silent' },
    },
  });
  const database = createDatabase(config.database.url, config.database);
  const clock = createTestClock(Date.now());
  const app = await buildApp(config, { database, clock, ...(options.logger ? { logger: options.logger } : {}) });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    app,
    url,
    dialect,
    database,
    clock,
    config,
    client: (clientOptions = {}) => new TestClient(url, clientOptions.origin === undefined ? TEST_ORIGIN : clientOptions.origin),
    close: async () => {
      await app.close();
      await database.close();
      await testDb.drop();
    },
  };
}
