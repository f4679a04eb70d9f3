import type { AuditEventType } from '../audit/audit.module.ts';
import type { Language } from './explanations.ts';

/** A human title for every audit event type, in English and German (a test checks none is missing). */
export const EVENT_TITLES: Record<AuditEventType, Record<Language, string>> = {
  'account.created': { en: 'Account created', de: 'Konto angelegt' },
  'passkey.registered': { en: 'Passkey added', de: 'Passkey hinzugefügt' },
  'passkey.registration_failed': { en: 'Adding a passkey failed', de: 'Passkey hinzufügen fehlgeschlagen' },
  'passkey.registration_failures_summarized': { en: 'Refused passkey registrations (summary)', de: 'Abgelehnte Passkey-Registrierungen (Zusammenfassung)' },
  'passkey.authenticated': { en: 'Signed in with a passkey', de: 'Mit Passkey angemeldet' },
  'passkey.authentication_failed': { en: 'Passkey sign-in failed', de: 'Passkey-Anmeldung fehlgeschlagen' },
  'passkey.clone_suspected': { en: 'Passkey refused: possible clone', de: 'Passkey abgelehnt: möglicher Klon' },
  'passkey.renamed': { en: 'Passkey renamed', de: 'Passkey umbenannt' },
  'passkey.deleted': { en: 'Passkey removed', de: 'Passkey entfernt' },
  'session.created': { en: 'Session started', de: 'Sitzung begonnen' },
  'session.revoked': { en: 'Session ended', de: 'Sitzung beendet' },
  'signup.rate_limited': { en: 'Sign-up refused: too many from this address', de: 'Registrierung abgelehnt: zu viele von dieser Adresse' },
  'session.stepped_up': { en: 'Confirmed with passkey (step-up)', de: 'Mit Passkey bestätigt (Step-up)' },
  'email_code.sent': { en: 'E-mail code sent', de: 'E-Mail-Code gesendet' },
  'email_code.failed': { en: 'E-mail code refused', de: 'E-Mail-Code abgelehnt' },
  'email.verified': { en: 'E-mail address verified', de: 'E-Mail-Adresse bestätigt' },
  'email.changed': { en: 'E-mail address changed', de: 'E-Mail-Adresse geändert' },
  'recovery_codes.generated': { en: 'Recovery codes created', de: 'Wiederherstellungscodes erstellt' },
  'recovery_code.used': { en: 'Recovery code used', de: 'Wiederherstellungscode benutzt' },
  'recovery.started': { en: 'Account recovery started', de: 'Kontowiederherstellung begonnen' },
  'recovery.support_started': { en: 'Support started a recovery', de: 'Support hat eine Wiederherstellung gestartet' },
  'lockout.lifted': { en: 'Support lifted a lockout', de: 'Support hat eine Sperre aufgehoben' },
  'staff.added': { en: 'Made a staff member', de: 'Zum Mitarbeiter gemacht' },
  'staff.role_changed': { en: 'Staff role changed', de: 'Mitarbeiterrolle geändert' },
  'staff.removed': { en: 'Removed from the staff', de: 'Aus dem Mitarbeiterkreis entfernt' },
  'recovery.failed': { en: 'Account recovery failed', de: 'Kontowiederherstellung fehlgeschlagen' },
  'account.recovered': { en: 'Account recovered', de: 'Konto wiederhergestellt' },
  'password.changed': { en: 'Password changed', de: 'Passwort geändert' },
  'password.failed': { en: 'Password sign-in failed', de: 'Passwort-Anmeldung fehlgeschlagen' },
  'totp.enrolment_started': { en: 'Authenticator app setup started', de: 'Einrichtung der Authenticator-App begonnen' },
  'totp.enrolled': { en: 'Authenticator app set up', de: 'Authenticator-App eingerichtet' },
  'totp.removed': { en: 'Authenticator app removed', de: 'Authenticator-App entfernt' },
  'ceremony.reported': { en: 'Passkey prompt in the browser', de: 'Passkey-Dialog im Browser' },
  'account.updated': { en: 'Profile changed', de: 'Profil geändert' },
  'account.disabled': { en: 'Account disabled', de: 'Konto deaktiviert' },
  'account.enabled': { en: 'Account enabled', de: 'Konto aktiviert' },
  'account.deleted': { en: 'Account deleted', de: 'Konto gelöscht' },
  'api_key.created': { en: 'API key created', de: 'API-Schlüssel erstellt' },
  'api_key.revoked': { en: 'API key revoked', de: 'API-Schlüssel widerrufen' },
  'api_key.rejected': { en: 'API key refused', de: 'API-Schlüssel abgelehnt' },
  'authorization.denied': { en: 'Access refused (missing permission)', de: 'Zugriff verweigert (fehlende Berechtigung)' },
  'append_token.issued': { en: 'Passkey setup link issued', de: 'Link zum Passkey-Einrichten ausgestellt' },
  'management.read': { en: 'Data read by staff or an API key', de: 'Daten von Mitarbeitern oder API-Schlüssel gelesen' },
  'analytics.exported': { en: 'Analytics exported (BI)', de: 'Analysedaten exportiert (BI)' },
  'account.imported': { en: 'Account imported', de: 'Konto importiert' },
  'passkey.imported': { en: 'Passkey imported', de: 'Passkey importiert' },
  'token.issued': { en: 'Signed token issued', de: 'Signiertes Token ausgestellt' },
  'login_result.redeemed': { en: 'Login result redeemed by the app', de: 'Login-Ergebnis von der App eingelöst' },
  'experiment.created': { en: 'A/B test created', de: 'A/B-Test angelegt' },
  'experiment.started': { en: 'A/B test started', de: 'A/B-Test gestartet' },
  'experiment.stopped': { en: 'A/B test stopped', de: 'A/B-Test beendet' },
  'rollout_rule.changed': { en: 'Rollout rule changed', de: 'Rollout-Regel geändert' },
  'passkey.append_declined': { en: 'Passkey offer declined ("not now")', de: 'Passkey-Angebot abgelehnt („Später“)' },
  'webhook_endpoint.created': { en: 'Webhook endpoint added', de: 'Webhook-Endpunkt hinzugefügt' },
  'webhook_endpoint.updated': { en: 'Webhook endpoint changed', de: 'Webhook-Endpunkt geändert' },
  'webhook_endpoint.deleted': { en: 'Webhook endpoint deleted', de: 'Webhook-Endpunkt gelöscht' },
  'webhook_endpoint.secret_rotated': { en: 'Webhook secret rotated', de: 'Webhook-Geheimnis erneuert' },
  'webhook_endpoint.disabled': { en: 'Webhook endpoint disabled', de: 'Webhook-Endpunkt deaktiviert' },
  'webhook_endpoint.tested': { en: 'Webhook test sent', de: 'Webhook-Test gesendet' },
  'webhook_delivery.redelivered': { en: 'Webhook sent again', de: 'Webhook erneut gesendet' },
};

const CEREMONY: Record<string, Record<Language, string>> = {
  registration: { en: 'Creating a passkey', de: 'Passkey erstellen' },
  authentication: { en: 'Passkey sign-in', de: 'Passkey-Anmeldung' },
};
const CLIENT_OUTCOME: Record<string, Record<Language, string>> = {
  offered: { en: 'offered', de: 'angeboten' },
  started: { en: 'started', de: 'begonnen' },
  completed: { en: 'completed in the browser', de: 'im Browser abgeschlossen' },
  cancelled: { en: 'cancelled in the browser', de: 'im Browser abgebrochen' },
  timed_out: { en: 'timed out in the browser', de: 'im Browser abgelaufen' },
  error: { en: 'failed in the browser', de: 'im Browser fehlgeschlagen' },
};

/** The title of one event; a client report says what happened in the browser ("Passkey sign-in cancelled in the browser"). */
export function eventTitle(type: string, data: Record<string, unknown> | null, language: Language): string {
  if (type === 'ceremony.reported' && data) {
    const ceremony = CEREMONY[String(data.ceremony)];
    const outcome = CLIENT_OUTCOME[String(data.outcome)];
    if (ceremony && outcome) return `${ceremony[language]} ${outcome[language]}${typeof data.errorName === 'string' ? ` (${data.errorName})` : ''}`;
  }
  return (EVENT_TITLES as Record<string, Record<Language, string>>)[type]?.[language] ?? type;
}
