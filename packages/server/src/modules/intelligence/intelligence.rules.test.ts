import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { REASON_CODES, decide, ecosystemOf, type DecisionInput, type Decisions, type PasskeyFact, type RolloutPhases } from './intelligence.rules.ts';

const IN: RolloutPhases = { device: { included: true, reason: 'no_rule' }, user: { included: true, reason: 'no_rule' } };
const KILLED: RolloutPhases = { device: { included: false, reason: 'kill_switch' }, user: { included: false, reason: 'kill_switch' } };
const DEVICE_OUT: RolloutPhases = { device: { included: false, reason: 'os' }, user: { included: false, reason: 'os' } };
const USER_OUT: RolloutPhases = { device: { included: true, reason: 'included' }, user: { included: false, reason: 'denied' } };

const mac = { webauthn: true, platformAuthenticator: true, conditionalMediation: true, hybrid: true, os: 'macos', browser: 'safari' };
const windowsNoHybrid = { webauthn: true, platformAuthenticator: true, conditionalMediation: true, hybrid: false, os: 'windows', browser: 'edge' };
const linuxNoPlatform = { webauthn: true, platformAuthenticator: false, conditionalMediation: true, hybrid: false, os: 'linux', browser: 'firefox' };
const noWebauthn = { webauthn: false, platformAuthenticator: false, conditionalMediation: false, hybrid: false, os: 'windows', browser: 'ie' };

const icloud: PasskeyFact = { id: 'cred-icloud', ecosystem: 'apple', synced: true };
const gpm: PasskeyFact = { id: 'cred-gpm', ecosystem: 'google', synced: true };
const onePassword: PasskeyFact = { id: 'cred-1p', ecosystem: 'third_party', synced: true };

function input(over: Partial<DecisionInput>): DecisionInput {
  return {
    device: mac,
    signedIn: false,
    subjectKnown: false,
    passkeys: [],
    usedHere: new Set(),
    recentFailures: 0,
    declinedRecently: false,
    rollout: { passkey_button: IN, autofill: IN, append_prompt: IN, passkey_first_signup: IN },
    autoHealAfter: 3,
    ...over,
  };
}

type Short = [offer: boolean, reason: string];
const short = (d: Decisions) => ({
  passkeyButton: [d.passkeyButton.offer, d.passkeyButton.reason] as Short,
  autofill: [d.autofill.offer, d.autofill.reason] as Short,
  appendPrompt: [d.appendPrompt.offer, d.appendPrompt.reason] as Short,
  passkeyFirstSignUp: [d.passkeyFirstSignUp.offer, d.passkeyFirstSignUp.reason] as Short,
  fallbackOnly: [d.fallbackOnly.offer, d.fallbackOnly.reason] as Short,
});

// Each row: the situation, and the five answers worked out by hand from the rules in intelligence.rules.ts.
const table: [name: string, situation: Partial<DecisionInput>, expected: ReturnType<typeof short>][] = [
  [
    'signed out, capable Mac, no identifier: everything a visitor can get',
    {},
    { passkeyButton: [true, 'eligible'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'no WebAuthn at all: fallback only',
    { device: noWebauthn },
    { passkeyButton: [false, 'no_webauthn'], autofill: [false, 'no_webauthn'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [false, 'no_webauthn'], fallbackOnly: [true, 'no_webauthn'] },
  ],
  [
    'signed in on a device without a platform authenticator: no append prompt',
    { device: linuxNoPlatform, signedIn: true, subjectKnown: true },
    { passkeyButton: [false, 'no_passkeys'], autofill: [true, 'eligible'], appendPrompt: [false, 'no_platform_authenticator'], passkeyFirstSignUp: [false, 'signed_in'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'signed in on a capable Mac without passkeys: append prompt',
    { signedIn: true, subjectKnown: true },
    { passkeyButton: [false, 'no_passkeys'], autofill: [true, 'eligible'], appendPrompt: [true, 'eligible'], passkeyFirstSignUp: [false, 'signed_in'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'signed in on a Mac with a synced iCloud passkey: no append prompt',
    { signedIn: true, subjectKnown: true, passkeys: [icloud] },
    { passkeyButton: [true, 'eligible'], autofill: [true, 'eligible'], appendPrompt: [false, 'has_usable_passkey'], passkeyFirstSignUp: [false, 'signed_in'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'signed in on a Mac with only a Google passkey: append prompt (none lives here)',
    { signedIn: true, subjectKnown: true, passkeys: [gpm] },
    { passkeyButton: [true, 'eligible'], autofill: [true, 'eligible'], appendPrompt: [true, 'eligible'], passkeyFirstSignUp: [false, 'signed_in'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'identifier whose passkeys are all in iCloud, on Windows without hybrid: no passkey button',
    { device: windowsNoHybrid, subjectKnown: true, passkeys: [icloud] },
    {
      passkeyButton: [false, 'passkeys_on_other_ecosystem_no_hybrid'],
      autofill: [true, 'eligible'],
      appendPrompt: [false, 'not_signed_in'],
      passkeyFirstSignUp: [true, 'eligible'],
      fallbackOnly: [false, 'passkey_offered'],
    },
  ],
  [
    'the same identifier on Windows with hybrid: the phone can do it',
    { device: { ...windowsNoHybrid, hybrid: true }, subjectKnown: true, passkeys: [icloud] },
    { passkeyButton: [true, 'eligible'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'the same identifier, but this Windows device used that passkey before: button',
    { device: windowsNoHybrid, subjectKnown: true, passkeys: [icloud], usedHere: new Set(['cred-icloud']) },
    { passkeyButton: [true, 'eligible'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'a password-manager passkey is never hidden (cannot tell where it lives)',
    { device: windowsNoHybrid, subjectKnown: true, passkeys: [onePassword] },
    { passkeyButton: [true, 'eligible'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'identifier without passkeys (or unknown): no button, the rest as for anyone',
    { device: windowsNoHybrid, subjectKnown: true, passkeys: [] },
    { passkeyButton: [false, 'no_passkeys'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'identifier without passkeys whose user rollout would exclude: still no_passkeys (no enumeration)',
    { subjectKnown: true, passkeys: [], rollout: { passkey_button: USER_OUT, autofill: IN, append_prompt: IN, passkey_first_signup: IN } },
    { passkeyButton: [false, 'no_passkeys'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'identifier with passkeys, user excluded by the rule',
    { subjectKnown: true, passkeys: [icloud], rollout: { passkey_button: USER_OUT, autofill: IN, append_prompt: IN, passkey_first_signup: IN } },
    { passkeyButton: [false, 'rollout_excluded'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'three failures on this device: sign-in stops offering passkeys, fallback only',
    { subjectKnown: true, passkeys: [icloud], recentFailures: 3 },
    {
      passkeyButton: [false, 'recent_failures_auto_heal'],
      autofill: [false, 'recent_failures_auto_heal'],
      appendPrompt: [false, 'not_signed_in'],
      passkeyFirstSignUp: [true, 'eligible'],
      fallbackOnly: [true, 'recent_failures_auto_heal'],
    },
  ],
  [
    'two failures: not yet',
    { subjectKnown: true, passkeys: [icloud], recentFailures: 2 },
    { passkeyButton: [true, 'eligible'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'after the fallback sign-in, the failing device is offered a new passkey although the user has one (auto-heal)',
    { signedIn: true, subjectKnown: true, passkeys: [icloud], recentFailures: 3 },
    {
      passkeyButton: [false, 'recent_failures_auto_heal'],
      autofill: [false, 'recent_failures_auto_heal'],
      appendPrompt: [true, 'recent_failures_auto_heal'],
      passkeyFirstSignUp: [false, 'signed_in'],
      fallbackOnly: [true, 'recent_failures_auto_heal'],
    },
  ],
  [
    '"not now" wins over auto-heal and eligibility',
    { signedIn: true, subjectKnown: true, recentFailures: 5, declinedRecently: true },
    {
      passkeyButton: [false, 'recent_failures_auto_heal'],
      autofill: [false, 'recent_failures_auto_heal'],
      appendPrompt: [false, 'declined_recently'],
      passkeyFirstSignUp: [false, 'signed_in'],
      fallbackOnly: [true, 'recent_failures_auto_heal'],
    },
  ],
  [
    'kill switches beat everything, device rollout excludes',
    { signedIn: true, subjectKnown: true, rollout: { passkey_button: KILLED, autofill: DEVICE_OUT, append_prompt: KILLED, passkey_first_signup: KILLED } },
    { passkeyButton: [false, 'kill_switch'], autofill: [false, 'rollout_excluded'], appendPrompt: [false, 'kill_switch'], passkeyFirstSignUp: [false, 'kill_switch'], fallbackOnly: [true, 'kill_switch'] },
  ],
  [
    'no conditional mediation: no autofill, button still',
    { device: { ...mac, conditionalMediation: false } },
    { passkeyButton: [true, 'eligible'], autofill: [false, 'no_conditional_mediation'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [true, 'eligible'], fallbackOnly: [false, 'passkey_offered'] },
  ],
  [
    'visitor excluded by a user-bucketed percentage (bucketed by device): no button, no sign-up',
    { rollout: { passkey_button: USER_OUT, autofill: IN, append_prompt: IN, passkey_first_signup: USER_OUT } },
    { passkeyButton: [false, 'rollout_excluded'], autofill: [true, 'eligible'], appendPrompt: [false, 'not_signed_in'], passkeyFirstSignUp: [false, 'rollout_excluded'], fallbackOnly: [false, 'passkey_offered'] },
  ],
];

describe('passkey intelligence decisions', () => {
  for (const [name, situation, expected] of table) {
    test(name, () => assert.deepEqual(short(decide(input(situation))), expected));
  }

  test('an unknown identifier and a known one without passkeys give identical decisions whatever the rules', () => {
    for (const r of [IN, USER_OUT, DEVICE_OUT, KILLED]) {
      const rollout = { passkey_button: r, autofill: r, append_prompt: r, passkey_first_signup: r };
      // Known without passkeys: its user phase is whatever the rule says of it; unknown: no user (IN).
      const known = decide(input({ subjectKnown: true, passkeys: [], rollout }));
      const unknown = decide(input({ subjectKnown: true, passkeys: [], rollout: { ...rollout, passkey_button: { ...r, user: IN.user } } }));
      assert.deepEqual(known, unknown);
    }
  });

  test('ecosystems from provider, transports and the OS the passkey was made on', () => {
    const table: [provider: string, transports: string[], createdOs: string | null, expected: string][] = [
      ['iCloud Keychain', ['hybrid', 'internal'], 'macos', 'apple'],
      ['Google Password Manager', ['hybrid', 'internal'], 'android', 'google'],
      ['Windows Hello', ['internal'], 'windows', 'windows'],
      ['Samsung Pass', ['internal'], 'android', 'samsung'],
      ['1Password', ['internal'], 'windows', 'third_party'],
      ['YubiKey 5 Series', ['usb', 'nfc'], null, 'security_key'],
      ['Passkey', ['usb'], null, 'security_key'],
      ['Passkey', ['internal', 'hybrid'], 'ios', 'apple'],
      ['Passkey', ['internal'], 'android', 'google'],
      ['Passkey', ['internal'], 'linux', 'unknown'],
    ];
    for (const [provider, transports, createdOs, expected] of table) assert.equal(ecosystemOf({ provider, transports, createdOs }), expected, provider);
  });

  test('the README documents every reason code in its table', () => {
    const readme = readFileSync(new URL('../../../../../README.md', import.meta.url), 'utf8');
    for (const code of REASON_CODES) assert.ok(readme.includes(`| \`${code}\` |`), code);
  });

  test('one decision takes microseconds (printed, not asserted)', () => {
    const situation = input({ signedIn: true, subjectKnown: true, passkeys: [icloud, gpm, onePassword], usedHere: new Set(['x']), device: windowsNoHybrid });
    const n = 200_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) decide(situation);
    console.log(`# intelligence decide(): ${(((performance.now() - started) * 1000) / n).toFixed(2)} µs per decision (pure rules, ${n} runs)`);
  });
});
