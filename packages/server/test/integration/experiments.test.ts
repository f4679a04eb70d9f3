import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authenticate, newAuthenticator, signUp } from '../helpers/flows.ts';
import { TestClient, type TestResponse } from '../helpers/test-client.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { createTestDatabase, dialects, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createDatabase } from '../../src/db/create-db.ts';
import { createMigrator, migrateToLatest } from '../../src/db/migrate.ts';

const ADMIN = '/api/admin/v1';
const HOUR = 3_600_000;

function assertProblem(r: TestResponse, status: number, code: string, label = ''): void {
  assert.equal(r.status, status, `${label} ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
  assert.equal(r.body.code, code, `${label} ${r.text}`);
}

interface Arm {
  variant: string;
  exposures: number;
  conversions: number;
  verdict: string;
}

for (const dialect of dialects) {
  describe(`A/B tests of passkey UX (${dialect})`, () => {
    let server: TestServer;
    let admin: TestClient;
    let reader: TestClient;

    const keyClient = async (scopes: string[]) => {
      const made = await createTestApiKey(server, scopes, `backend ${scopes.join(' ')}`);
      const client = new TestClient(server.url, null);
      client.bearer = made.secret;
      return client;
    };
    const assignmentOf = async (client: TestClient, feature: string) => {
      const r = await client.get('/api/v1/experiments/assignments');
      assert.equal(r.status, 200, r.text);
      return (r.body as { assignments: Record<string, { experiment: string; variant: string; concluded: boolean }> }).assignments[feature];
    };

    before(async () => {
      server = await startTestServer(dialect);
      admin = await keyClient(['experiments:read', 'experiments:write']);
      reader = await keyClient(['experiments:read']);
    });
    after(async () => {
      await server.close();
    });

    test('definitions are validated, keys are unique, and a read-only key cannot change anything', async () => {
      const base = { key: 'copy-test', feature: 'append_prompt', metric: 'passkey_sign_in' };
      assertProblem(await admin.post(`${ADMIN}/experiments`, { ...base, variants: [{ key: 'short' }, { key: 'long' }] }), 400, 'invalid_experiment', 'no control');
      assertProblem(await admin.post(`${ADMIN}/experiments`, { ...base, variants: [{ key: 'control' }, { key: 'control' }] }), 400, 'invalid_experiment', 'duplicate variant');
      assertProblem(await admin.post(`${ADMIN}/experiments`, { ...base, key: 'Bad Key', variants: [{ key: 'control' }, { key: 'b' }] }), 400, 'invalid_request', 'key pattern');
      assertProblem(await admin.post(`${ADMIN}/experiments`, { ...base, feature: 'teleport', variants: [{ key: 'control' }, { key: 'b' }] }), 400, 'invalid_request', 'feature');
      assertProblem(await admin.post(`${ADMIN}/experiments`, { ...base, variants: [{ key: 'control' }, { key: 'b' }], baselineRate: 0.9, minimumDetectableEffect: 0.2 }), 400, 'invalid_experiment', 'plan');
      assertProblem(await reader.post(`${ADMIN}/experiments`, { ...base, variants: [{ key: 'control' }, { key: 'b' }] }), 403, 'insufficient_scope', 'read-only key');
      const made = await admin.post(`${ADMIN}/experiments`, { ...base, variants: [{ key: 'bold', weight: 1 }, { key: 'control', weight: 1 }] });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.experiment.status, 'draft');
      assert.deepEqual(made.body.experiment.variants.map((v: { key: string }) => v.key), ['control', 'bold'], 'the control comes first');
      assertProblem(await admin.post(`${ADMIN}/experiments`, { ...base, variants: [{ key: 'control' }, { key: 'b' }] }), 409, 'experiment_exists');
      assertProblem(await reader.post(`${ADMIN}/experiments/copy-test/start`, {}), 403, 'insufficient_scope');
      assertProblem(await admin.post(`${ADMIN}/experiments/nope/start`, {}), 404, 'experiment_not_found');
    });

    test('sticky arms, exposures counted once, conversions only after the exposure and inside the window, a winner rolled out to everybody', async () => {
      const started = await admin.post(`${ADMIN}/experiments/copy-test/start`, {});
      assert.equal(started.status, 200, started.text);
      assert.equal(started.body.experiment.status, 'running');
      const other = await admin.post(`${ADMIN}/experiments`, { key: 'copy-test-2', feature: 'append_prompt', metric: 'passkey_created', variants: [{ key: 'control' }, { key: 'b' }] });
      assert.equal(other.status, 201, other.text);
      assertProblem(await admin.post(`${ADMIN}/experiments/copy-test-2/start`, {}), 409, 'experiment_conflict', 'one running experiment per feature');

      // Not signed in: no arm and no exposure.
      const stranger = server.client();
      assertProblem(await stranger.get('/api/v1/experiments/assignments'), 401, 'unauthorized');
      assertProblem(await stranger.post('/api/v1/experiments/copy-test/exposures', { variant: 'control' }), 401, 'unauthorized');

      const users: { client: TestClient; authenticator: ReturnType<typeof newAuthenticator>; variant: string }[] = [];
      for (let i = 0; i < 8; i++) {
        const client = server.client();
        const authenticator = newAuthenticator();
        await signUp(client, authenticator, `ab-user-${i}`);
        const assignment = await assignmentOf(client, 'append_prompt');
        assert.ok(assignment, 'everybody is enrolled at 100 % traffic');
        assert.equal(assignment.experiment, 'copy-test');
        assert.equal(assignment.concluded, false);
        assert.deepEqual(await assignmentOf(client, 'append_prompt'), assignment, 'the arm is sticky');
        assert.equal(await assignmentOf(client, 'passkey_button'), undefined, 'no experiment covers the button');
        users.push({ client, authenticator, variant: assignment.variant });
      }
      server.clock.advance(1000);

      // User 6 signs in before being shown anything: that sign-in is no conversion.
      const six = users[6];
      assert.ok(six);
      assert.equal((await authenticate(six.client, six.authenticator)).verify.status, 200);
      server.clock.advance(1000);

      for (const [i, user] of users.entries()) {
        const wrong = user.variant === 'control' ? 'bold' : 'control';
        assertProblem(await user.client.post('/api/v1/experiments/copy-test/exposures', { variant: wrong }), 409, 'variant_mismatch', `user ${i}`);
        const shown = await user.client.post('/api/v1/experiments/copy-test/exposures', { variant: user.variant });
        assert.equal(shown.status, 204, shown.text);
      }
      // A repeated (or late duplicate) report changes nothing.
      const zero = users[0];
      assert.ok(zero);
      assert.equal((await zero.client.post('/api/v1/experiments/copy-test/exposures', { variant: zero.variant })).status, 204);
      server.clock.advance(1000);

      // Users 0-3 sign in with their passkey within the 24 h window: conversions.
      for (const user of users.slice(0, 4)) assert.equal((await authenticate(user.client, user.authenticator)).verify.status, 200);
      // User 4 signs in 25 h later: outside the window.
      server.clock.advance(25 * HOUR);
      const four = users[4];
      assert.ok(four);
      assert.equal((await authenticate(four.client, four.authenticator)).verify.status, 200);

      const expected = new Map<string, { exposures: number; conversions: number }>([
        ['control', { exposures: 0, conversions: 0 }],
        ['bold', { exposures: 0, conversions: 0 }],
      ]);
      for (const [i, user] of users.entries()) {
        const arm = expected.get(user.variant);
        assert.ok(arm);
        arm.exposures += 1;
        if (i < 4) arm.conversions += 1;
      }
      const report = await reader.get(`${ADMIN}/experiments/copy-test`);
      assert.equal(report.status, 200, report.text);
      const arms = report.body.result.arms as Arm[];
      assert.deepEqual(
        arms.map((a) => ({ variant: a.variant, exposures: a.exposures, conversions: a.conversions })),
        [...expected].map(([variant, counts]) => ({ variant, ...counts })),
      );
      assert.equal(report.body.result.enoughData, false, '8 exposures are far below the planned sample');
      assert.equal(report.body.result.requiredPerArm, 686);
      assert.equal(report.body.result.recommendation, null);
      assert.equal(arms.find((a) => a.variant === 'bold')?.verdict, 'not_enough_data');

      // Stop and roll out "bold": everybody gets it, exposures end, later sign-ins do not count.
      assertProblem(await admin.post(`${ADMIN}/experiments/copy-test/stop`, { winner: 'huge' }), 400, 'invalid_experiment');
      const stopped = await admin.post(`${ADMIN}/experiments/copy-test/stop`, { winner: 'bold' });
      assert.equal(stopped.status, 200, stopped.text);
      assert.equal(stopped.body.experiment.winner, 'bold');
      // (The 25 h jump ended the other sessions; users 4 and 5 have fresh ones.)
      server.clock.advance(1000);
      const five = users[5];
      assert.ok(five);
      assert.equal((await authenticate(five.client, five.authenticator)).verify.status, 200);
      for (const user of [four, five]) assert.deepEqual(await assignmentOf(user.client, 'append_prompt'), { experiment: 'copy-test', variant: 'bold', concluded: true });
      assertProblem(await five.client.post('/api/v1/experiments/copy-test/exposures', { variant: 'bold' }), 409, 'experiment_not_running');
      assertProblem(await admin.post(`${ADMIN}/experiments/copy-test/stop`, { winner: null }), 409, 'experiment_state');
      const after = await reader.get(`${ADMIN}/experiments/copy-test`);
      assert.deepEqual(
        (after.body.result.arms as Arm[]).map((a) => a.conversions),
        arms.map((a) => a.conversions),
        'a sign-in after the stop is no conversion',
      );

      // A new experiment of the feature may start now and takes precedence over the rolled-out winner.
      assert.equal((await admin.post(`${ADMIN}/experiments/copy-test-2/start`, {})).status, 200);
      const fresh = await assignmentOf(four.client, 'append_prompt');
      assert.equal(fresh?.experiment, 'copy-test-2');

      const audited = await server.database.db
        .selectFrom('audit_events')
        .select(['type', 'actor_kind'])
        .where('type', 'like', 'experiment.%')
        .orderBy('created_at')
        .execute();
      assert.deepEqual(
        audited.map((row) => row.type),
        ['experiment.created', 'experiment.started', 'experiment.created', 'experiment.stopped', 'experiment.started'],
      );
      assert.ok(audited.every((row) => row.actor_kind === 'api_key'), 'the key is the actor');
      const listed = await reader.get(`${ADMIN}/experiments`);
      assert.deepEqual(listed.body.experiments.map((e: { key: string; status: string }) => `${e.key}:${e.status}`).sort(), ['copy-test-2:running', 'copy-test:stopped']);
    });
  });
}

for (const dialect of dialects) {
  test(`the experiments migration goes up, down and up again (${dialect})`, async () => {
    const fresh = await createTestDatabase(dialect);
    const database = createDatabase(fresh.url);
    try {
      const tables = async () => (await database.db.introspection.getTables()).map((t) => t.name);
      await migrateToLatest(database.db);
      assert.ok((await tables()).includes('experiment_exposures'));
      const down = await createMigrator(database.db).migrateTo('2026_12_03_tokens');
      assert.equal(down.error, undefined);
      assert.ok(down.results?.some((r) => r.migrationName === '2026_12_04_experiments' && r.status === 'Success'));
      assert.ok(!(await tables()).some((t) => ['experiments', 'experiment_exposures'].includes(t)));
      await migrateToLatest(database.db);
      assert.ok((await tables()).includes('experiments'));
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
}
