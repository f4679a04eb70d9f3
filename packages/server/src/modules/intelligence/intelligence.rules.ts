/**
 * Passkey intelligence (issue 14 item 1) as pure functions: what to offer on this device, given
 * what the client reports, what the server knows and the rollout outcomes. No I/O, no clock.
 */

import { DECISION_REASONS } from '../../contract/schemas.ts';

/** Every reason a decision can give (the contract's list; README "Passkey intelligence" has the table). */
export const REASON_CODES = DECISION_REASONS;
export type ReasonCode = (typeof REASON_CODES)[number];

/** Where a passkey lives, as far as the server can tell. */
export type Ecosystem = 'apple' | 'google' | 'windows' | 'samsung' | 'third_party' | 'security_key' | 'unknown';

export interface DeviceFacts {
  webauthn: boolean;
  /** isUserVerifyingPlatformAuthenticatorAvailable(): this device can make a passkey. */
  platformAuthenticator: boolean;
  conditionalMediation: boolean;
  /** The device can use a passkey on a phone (getClientCapabilities().hybridTransport). */
  hybrid: boolean;
  /** OS and browser families (rollout.rules.ts family()). */
  os: string | null;
  browser: string | null;
}

export interface PasskeyFact {
  id: string;
  ecosystem: Ecosystem;
  /** BS flag: synced to the provider's cloud. */
  synced: boolean;
}

export interface RolloutPhases {
  /** What the device alone may see (user criteria skipped). */
  device: { included: boolean; reason: string };
  /** With the user of this feature when known (else bucketed by device). */
  user: { included: boolean; reason: string };
}

export interface DecisionInput {
  device: DeviceFacts;
  signedIn: boolean;
  /** An identifier was given (identifier-first) or the caller is signed in: the passkey button is for someone. */
  subjectKnown: boolean;
  /** The passkeys of that someone; empty for an identifier without passkeys and for one that does not exist. */
  passkeys: PasskeyFact[];
  /** Passkeys this device used or made before (its own reports). */
  usedHere: ReadonlySet<string>;
  /** Failed, cancelled or timed-out ceremonies on this device since its last success (within the window). */
  recentFailures: number;
  /** A "not now" to the append prompt within the cool-down. */
  declinedRecently: boolean;
  rollout: { passkey_button: RolloutPhases; autofill: RolloutPhases; append_prompt: RolloutPhases; passkey_first_signup: RolloutPhases };
  /** Failures after which the device stops being offered passkey sign-in and is offered a new passkey instead. */
  autoHealAfter: number;
}

export interface Decision {
  offer: boolean;
  reason: ReasonCode;
}

export interface Decisions {
  passkeyButton: Decision;
  autofill: Decision;
  appendPrompt: Decision;
  passkeyFirstSignUp: Decision;
  fallbackOnly: Decision;
}

const yes = (reason: ReasonCode = 'eligible'): Decision => ({ offer: true, reason });
const no = (reason: ReasonCode): Decision => ({ offer: false, reason });

/** A provider name (passkey-names, from the AAGUID), transports and the OS the passkey was made on → its ecosystem. */
export function ecosystemOf(input: { provider: string; transports: readonly string[]; createdOs: string | null }): Ecosystem {
  const p = input.provider.toLowerCase();
  if (p.includes('icloud') || p.startsWith('apple')) return 'apple';
  if (p.includes('google') || p.includes('chrome on mac')) return 'google';
  if (p.includes('windows hello')) return 'windows';
  if (p.includes('samsung')) return 'samsung';
  const t = input.transports;
  if (t.length > 0 && !t.includes('internal') && !t.includes('hybrid') && t.some((x) => x === 'usb' || x === 'nfc' || x === 'ble')) return 'security_key';
  if (p !== 'passkey') return 'third_party';
  // An AAGUID the list does not know (Safari sends zeros): the OS it was made on says where it lives.
  const os = input.createdOs ?? '';
  if (/^(ios|macos)$/.test(os)) return 'apple';
  if (/^(android|chromeos)$/.test(os)) return 'google';
  if (os === 'windows') return 'windows';
  return 'unknown';
}

/** Whether a passkey of this ecosystem is reachable on this device without a phone. */
export function reachableHere(ecosystem: Ecosystem, device: DeviceFacts): boolean {
  switch (ecosystem) {
    case 'apple':
      return device.os === 'ios' || device.os === 'macos';
    case 'google':
      // Google Password Manager syncs to Android, ChromeOS and Chrome on desktops.
      return device.os === 'android' || device.os === 'chromeos' || device.browser === 'chrome';
    case 'windows':
      return device.os === 'windows';
    case 'samsung':
      return device.os === 'android';
    default:
      // Password managers (browser extensions), security keys and unknown providers: cannot tell, so do not hide.
      return true;
  }
}

/**
 * The decisions. Order inside each: the operator's kill switch, what the device can do, the
 * device's rollout, the device's history, then what depends on the user.
 *
 * No enumeration (SEC-20): every step that depends on an identifier comes after every step that
 * does not, and the first of them answers `no_passkeys` for an identifier without passkeys —
 * whether or not it exists. User-dependent rollout criteria are applied only after that, so an
 * identifier's deny list, segment or bucket never shows for an account without passkeys. Only
 * autofill, the append prompt and passkey-first sign-up never look at the identifier at all.
 */
export function decide(input: DecisionInput): Decisions {
  const { device, rollout } = input;
  const autoHeal = input.recentFailures >= input.autoHealAfter;
  const killed = (phases: RolloutPhases) => phases.device.reason === 'kill_switch';

  const passkeyButton = ((): Decision => {
    const r = rollout.passkey_button;
    if (killed(r)) return no('kill_switch');
    if (!device.webauthn) return no('no_webauthn');
    if (!r.device.included) return no('rollout_excluded');
    if (autoHeal) return no('recent_failures_auto_heal');
    if (input.subjectKnown) {
      if (input.passkeys.length === 0) return no('no_passkeys');
      if (!r.user.included) return no('rollout_excluded');
      const reachable = input.passkeys.some((p) => input.usedHere.has(p.id) || reachableHere(p.ecosystem, device));
      if (!reachable && !device.hybrid) return no('passkeys_on_other_ecosystem_no_hybrid');
      return yes();
    }
    return r.user.included ? yes() : no('rollout_excluded');
  })();

  const autofill = ((): Decision => {
    const r = rollout.autofill;
    if (killed(r)) return no('kill_switch');
    if (!device.webauthn) return no('no_webauthn');
    if (!device.conditionalMediation) return no('no_conditional_mediation');
    if (!r.device.included || !r.user.included) return no('rollout_excluded');
    if (autoHeal) return no('recent_failures_auto_heal');
    return yes();
  })();

  const appendPrompt = ((): Decision => {
    const r = rollout.append_prompt;
    if (killed(r)) return no('kill_switch');
    if (!input.signedIn) return no('not_signed_in');
    if (!device.webauthn) return no('no_webauthn');
    // A device that cannot make a passkey is never asked to.
    if (!device.platformAuthenticator) return no('no_platform_authenticator');
    if (!r.device.included || !r.user.included) return no('rollout_excluded');
    if (input.declinedRecently) return no('declined_recently');
    // Auto-heal: the passkeys it has keep failing here; a new one made here is the way out of the loop.
    if (autoHeal) return yes('recent_failures_auto_heal');
    const hasOneHere = input.passkeys.some((p) => input.usedHere.has(p.id) || (p.synced && reachableHere(p.ecosystem, device) && p.ecosystem !== 'third_party' && p.ecosystem !== 'unknown'));
    if (hasOneHere) return no('has_usable_passkey');
    return yes();
  })();

  const passkeyFirstSignUp = ((): Decision => {
    const r = rollout.passkey_first_signup;
    if (killed(r)) return no('kill_switch');
    if (input.signedIn) return no('signed_in');
    if (!device.webauthn) return no('no_webauthn');
    if (!device.platformAuthenticator) return no('no_platform_authenticator');
    if (!r.device.included || !r.user.included) return no('rollout_excluded');
    return yes();
  })();

  const fallbackOnly = !passkeyButton.offer && !autofill.offer ? yes(passkeyButton.reason) : no('passkey_offered');
  return { passkeyButton, autofill, appendPrompt, passkeyFirstSignUp, fallbackOnly };
}
