import { createApiKeysService } from '../../src/modules/api-keys/api-keys.module.ts';
import { createAuditService } from '../../src/modules/audit/audit.module.ts';
import { cryptoRandom } from '../../src/platform/random.ts';
import type { TestServer } from './test-server.ts';

/**
 * An API key made the way `latchkey api-keys create` makes one (actor `cli`), straight into the
 * test server's database; returns its id and secret (`lk_live_…`), which is shown nowhere else.
 */
export async function createTestApiKey(server: Pick<TestServer, 'clock' | 'database'>, scopes: readonly string[], name = 'test backend'): Promise<{ id: string; secret: string }> {
  const audit = createAuditService({ clock: server.clock, random: cryptoRandom, parseUserAgent: () => ({ os: null, browser: null, device: null }) });
  const made = await createApiKeysService({ db: server.database.db, clock: server.clock, random: cryptoRandom, audit }).create({
    name,
    scopes,
    context: { requestId: 'setup', ip: null, userAgent: null, actor: { kind: 'cli', id: null } },
  });
  return { id: made.key.id, secret: made.secret };
}
