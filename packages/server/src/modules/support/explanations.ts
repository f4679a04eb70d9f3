/**
 * What each failure means and what support should tell the user: the one table (issue 13) the
 * console's timeline, the README section "What each failure means" and the tests read. Three
 * kinds of key:
 * - `code:<error code>`: every code of the error registry (src/errors, `registeredErrors()`);
 *   a test fails when a registered code has no entry here, so a new code cannot be forgotten;
 * - `client:<name>`: what the web components report from the browser (`ceremony.reported`):
 *   the WebAuthn DOMException names, and `cancelled` / `timed_out`, which the elements tell apart
 *   by how long the prompt was open (a NotAllowedError before the timeout is a cancel);
 * - `reason:<id>`: why the server refused a passkey, from the audit row's operator-only reason
 *   (the client only ever sees `verification_failed` or `challenge_invalid`, SEC-20).
 */

export type Severity = 'info' | 'warning' | 'danger';
export type Language = 'en' | 'de';
export const LANGUAGES: readonly Language[] = ['en', 'de'];

export interface Explanation {
  severity: Severity;
  /** Whether an end user can run into it (false: only an integration or an operator). */
  userFacing: boolean;
  meaning: Record<Language, string>;
  tellUser: Record<Language, string>;
}

/** An explanation in one language, as the API returns it. */
export interface LocalizedExplanation {
  key: string;
  meaning: string;
  tellUser: string;
  severity: Severity;
}

type Row = [severity: Severity, meaningEn: string, tellEn: string, meaningDe: string, tellDe: string];
const entry = ([severity, meaningEn, tellEn, meaningDe, tellDe]: Row, userFacing = true): Explanation => ({
  severity,
  userFacing,
  meaning: { en: meaningEn, de: meaningDe },
  tellUser: { en: tellEn, de: tellDe },
});
const integration = (row: Row) => entry(row, false);

const RETRY_EN = 'Ask them to try again; if it keeps happening, note the time and escalate.';
const RETRY_DE = 'Bitten Sie um einen neuen Versuch; passiert es wieder, notieren Sie die Uhrzeit und eskalieren Sie.';
const APP_EN = 'Nothing the user did: the app or its integration sent a request the server refuses. Pass the request id to the developers.';
const APP_DE = 'Nicht die Schuld des Nutzers: Die App oder ihre Anbindung hat eine Anfrage geschickt, die der Server ablehnt. Geben Sie die Request-ID an die Entwickler weiter.';
const NOTHING_EN = 'Nothing to tell the user: this concerns the backend integration, not their account.';
const NOTHING_DE = 'Dem Nutzer ist nichts zu sagen: Es betrifft die Backend-Anbindung, nicht sein Konto.';

/** Every error code of the registry. */
export const ERROR_CODE_EXPLANATIONS: Record<string, Explanation> = {
  invalid_request: entry(['info', 'The request was malformed or a field was out of range.', APP_EN, 'Die Anfrage war fehlerhaft oder ein Feld außerhalb des erlaubten Bereichs.', APP_DE]),
  invalid_url: entry(['info', 'The URL could not be read.', APP_EN, 'Die URL war nicht lesbar.', APP_DE]),
  uri_too_long: entry(['info', 'The URL was too long.', APP_EN, 'Die URL war zu lang.', APP_DE]),
  headers_too_large: entry(['info', 'The request headers were too large (often too many or too big cookies for this site).', 'Ask them to clear this site’s cookies and try again.', 'Die Anfrage-Header waren zu groß (oft zu viele oder zu große Cookies dieser Seite).', 'Bitten Sie, die Cookies dieser Seite zu löschen und es erneut zu versuchen.']),
  request_timeout: entry(['info', 'The request took too long to arrive (slow or interrupted connection).', 'Ask them to check their connection and try again.', 'Die Anfrage kam zu langsam an (langsame oder unterbrochene Verbindung).', 'Bitten Sie, die Verbindung zu prüfen und es erneut zu versuchen.']),
  expectation_failed: entry(['info', 'The client asked for an HTTP feature the server does not offer (Expect header).', APP_EN, 'Der Client verlangte eine HTTP-Funktion, die der Server nicht anbietet (Expect-Header).', APP_DE]),
  unsupported_media_type: entry(['info', 'The request body was not JSON (or was compressed).', APP_EN, 'Der Anfrage-Body war kein JSON (oder komprimiert).', APP_DE]),
  payload_too_large: entry(['info', 'The request body was too large.', APP_EN, 'Der Anfrage-Body war zu groß.', APP_DE]),
  origin_not_allowed: entry(['warning', 'The request came from a web page on an origin that is not configured (LATCHKEY_ORIGINS): a misconfigured site, or another site trying to act for the user.', 'Ask which address they use to sign in; if it is not one of ours, tell them not to use it.', 'Die Anfrage kam von einer Seite mit einem nicht konfigurierten Origin (LATCHKEY_ORIGINS): eine falsch eingerichtete Seite oder eine fremde Seite, die für den Nutzer handeln will.', 'Fragen Sie, über welche Adresse sie sich anmelden; ist es nicht unsere, sollen sie sie nicht benutzen.']),
  unauthorized: entry(['info', 'Not signed in, or the session has ended (signed out, expired, revoked).', 'Ask them to sign in again.', 'Nicht angemeldet, oder die Sitzung ist beendet (abgemeldet, abgelaufen, widerrufen).', 'Bitten Sie, sich erneut anzumelden.']),
  not_found: entry(['info', 'What was asked for does not exist (any more).', 'Ask them to reload the page.', 'Das Angefragte existiert nicht (mehr).', 'Bitten Sie, die Seite neu zu laden.']),
  method_not_allowed: entry(['info', 'The HTTP method is not supported on this path.', APP_EN, 'Die HTTP-Methode wird auf diesem Pfad nicht unterstützt.', APP_DE]),
  rate_limited: entry(['warning', 'Too many requests from this address in a short time (possibly a shared network, or automated guessing).', 'Ask them to wait a while (the Retry-After time) and try again.', 'Zu viele Anfragen von dieser Adresse in kurzer Zeit (evtl. ein geteiltes Netz oder automatisiertes Raten).', 'Bitten Sie, eine Weile (die Retry-After-Zeit) zu warten und es erneut zu versuchen.']),
  service_unavailable: entry(['warning', 'The server could not reach its database or is shutting down.', RETRY_EN, 'Der Server erreichte seine Datenbank nicht oder fährt herunter.', RETRY_DE]),
  internal: entry(['danger', 'An unexpected server error. Nothing was changed.', RETRY_EN, 'Ein unerwarteter Serverfehler. Es wurde nichts geändert.', RETRY_DE]),
  username_taken: entry(['info', 'Sign-up with a username that already has an account.', 'They probably have an account already: ask them to sign in instead, or pick another name.', 'Registrierung mit einem Benutzernamen, zu dem es schon ein Konto gibt.', 'Vermutlich haben sie schon ein Konto: Bitten Sie, sich anzumelden oder einen anderen Namen zu wählen.']),
  username_confusable: entry(['info', 'Sign-up with a username that looks like an existing one (look-alike letters).', 'Ask them to pick a clearly different username.', 'Registrierung mit einem Benutzernamen, der einem bestehenden zum Verwechseln ähnlich sieht.', 'Bitten Sie, einen deutlich anderen Benutzernamen zu wählen.']),
  username_invalid: entry(['info', 'The username has characters or a length that is not allowed (spaces, control characters, too long, mixed scripts).', 'Ask them to use letters, digits and . _ - only, without spaces.', 'Der Benutzername hat unerlaubte Zeichen oder eine unerlaubte Länge (Leerzeichen, Steuerzeichen, zu lang, gemischte Schriften).', 'Bitten Sie, nur Buchstaben, Ziffern und . _ - ohne Leerzeichen zu verwenden.']),
  display_name_invalid: entry(['info', 'The display name is empty, too long or has control characters.', 'Ask them to enter a shorter, plain name.', 'Der Anzeigename ist leer, zu lang oder enthält Steuerzeichen.', 'Bitten Sie um einen kürzeren, einfachen Namen.']),
  signup_disabled: entry(['info', 'Self sign-up is switched off on this server.', 'Accounts are created by the company; tell them how to get one.', 'Selbstregistrierung ist auf diesem Server ausgeschaltet.', 'Konten legt das Unternehmen an; erklären Sie, wie man eines bekommt.']),
  invalid_response: entry(['warning', 'The browser or authenticator sent a WebAuthn answer that cannot be parsed: an unusual browser, an extension interfering, or a forged request.', 'Ask them to try another up-to-date browser without extensions.', 'Browser oder Authenticator schickten eine WebAuthn-Antwort, die nicht lesbar ist: ein ungewöhnlicher Browser, eine störende Erweiterung oder eine gefälschte Anfrage.', 'Bitten Sie, einen anderen aktuellen Browser ohne Erweiterungen zu probieren.']),
  challenge_invalid: entry(['info', 'The sign-in or registration attempt had expired, was already used, or was finished in another tab or browser than the one that started it.', 'Ask them to start again in one tab and finish within five minutes.', 'Der Anmelde- oder Registrierungsversuch war abgelaufen, schon benutzt oder wurde in einem anderen Tab oder Browser beendet als begonnen.', 'Bitten Sie, neu zu beginnen, in einem Tab zu bleiben und innerhalb von fünf Minuten abzuschließen.']),
  registration_failed: entry(['warning', 'The new passkey could not be verified (wrong site, missing user verification, unsupported algorithm or attestation). The reason is in the event.', 'Ask them to try again on our own site; if their device keeps failing, suggest another passkey provider (e.g. their phone).', 'Der neue Passkey ließ sich nicht prüfen (falsche Seite, fehlende Nutzerverifikation, nicht unterstützter Algorithmus oder Attestierung). Der Grund steht im Ereignis.', 'Bitten Sie um einen neuen Versuch auf unserer Seite; scheitert das Gerät weiter, einen anderen Passkey-Anbieter (z. B. das Handy) vorschlagen.']),
  invalid_public_key: entry(['warning', 'The authenticator offered a public key the server cannot use.', 'Suggest another passkey provider (e.g. their phone or password manager).', 'Der Authenticator bot einen öffentlichen Schlüssel an, den der Server nicht verwenden kann.', 'Schlagen Sie einen anderen Passkey-Anbieter vor (z. B. Handy oder Passwortmanager).']),
  invalid_attestation: entry(['warning', 'The authenticator’s attestation (proof of its make) did not verify or is not trusted by policy.', 'Tell them which authenticators are allowed here and ask them to use one.', 'Die Attestierung des Authenticators (Herkunftsnachweis) war ungültig oder ist laut Richtlinie nicht vertrauenswürdig.', 'Nennen Sie die hier erlaubten Authenticatoren und bitten Sie, einen davon zu nutzen.']),
  credential_exists: entry(['info', 'This passkey is already registered (the device already has a passkey for this account).', 'They already have a passkey on this device: ask them to sign in with it.', 'Dieser Passkey ist bereits registriert (das Gerät hat schon einen Passkey für dieses Konto).', 'Auf dem Gerät gibt es schon einen Passkey: Bitten Sie, sich damit anzumelden.']),
  verification_failed: entry(['warning', 'A passkey sign-in was refused. Users always see the same code; the precise reason (unknown passkey, wrong site, counter, signature…) is in the event’s reason.', 'See the reason explained below; in doubt, ask them to try again and choose the passkey for this site.', 'Eine Passkey-Anmeldung wurde abgelehnt. Nutzer sehen immer denselben Code; der genaue Grund (unbekannter Passkey, falsche Seite, Zähler, Signatur …) steht im Grund des Ereignisses.', 'Siehe die Erklärung des Grundes unten; im Zweifel um einen neuen Versuch mit dem Passkey für diese Seite bitten.']),
  passkey_not_found: entry(['info', 'The passkey asked for is not (any longer) on this account.', 'Ask them to reload their passkey list.', 'Der angefragte Passkey gehört nicht (mehr) zu diesem Konto.', 'Bitten Sie, die Passkey-Liste neu zu laden.']),
  session_not_found: entry(['info', 'The session asked for has ended or belongs to someone else.', 'Ask them to reload their list of devices.', 'Die angefragte Sitzung ist beendet oder gehört jemand anderem.', 'Bitten Sie, die Geräteliste neu zu laden.']),
  step_up_required: entry(['info', 'A sensitive change needs a fresh confirmation with the passkey (step-up).', 'Ask them to confirm with their passkey when asked, then repeat the change.', 'Eine sensible Änderung braucht eine frische Bestätigung mit dem Passkey (Step-up).', 'Bitten Sie, mit dem Passkey zu bestätigen, wenn danach gefragt wird, und die Änderung zu wiederholen.']),
  recovery_session_restricted: entry(['info', 'The user signed in through recovery: until they add a new passkey, that session can do nothing else.', 'Ask them to add a passkey first; then everything works again.', 'Der Nutzer ist über die Wiederherstellung angemeldet: Bis ein neuer Passkey angelegt ist, kann diese Sitzung nichts anderes.', 'Bitten Sie, zuerst einen Passkey anzulegen; danach geht alles wieder.']),
  last_passkey: entry(['info', 'Removing the last passkey would leave the account without a way to sign in.', 'Ask them to add another passkey (or a verified e-mail) first.', 'Das Entfernen des letzten Passkeys ließe das Konto ohne Anmeldemöglichkeit.', 'Bitten Sie, zuerst einen weiteren Passkey (oder eine bestätigte E-Mail) hinzuzufügen.']),
  email_taken: entry(['info', 'Another account already uses this e-mail address.', 'They may have a second account: ask them to sign in with that address, or use another one.', 'Ein anderes Konto nutzt diese E-Mail-Adresse schon.', 'Vielleicht gibt es ein zweites Konto: Bitten Sie, sich damit anzumelden oder eine andere Adresse zu nehmen.']),
  email_invalid: entry(['info', 'That is not an e-mail address.', 'Ask them to check the address for typos.', 'Das ist keine E-Mail-Adresse.', 'Bitten Sie, die Adresse auf Tippfehler zu prüfen.']),
  code_invalid: entry(['info', 'The e-mailed code was wrong, expired or already used (or a newer code replaced it).', 'Ask them to use the newest e-mail only, within 10 minutes, or request a new code.', 'Der per E-Mail gesendete Code war falsch, abgelaufen, schon benutzt oder durch einen neueren ersetzt.', 'Bitten Sie, nur die neueste E-Mail innerhalb von 10 Minuten zu nutzen oder einen neuen Code anzufordern.']),
  too_many_attempts: entry(['warning', 'Too many wrong codes or passwords in a row: the method is delayed or locked (see the lockout state on the user page).', 'Tell them to wait, or sign in with their passkey (which clears it); support can lift the lock after checking who they are.', 'Zu viele falsche Codes oder Passwörter hintereinander: Die Methode ist verzögert oder gesperrt (siehe Sperrstatus auf der Nutzerseite).', 'Bitten Sie zu warten oder sich mit dem Passkey anzumelden (das hebt es auf); der Support kann die Sperre nach Identitätsprüfung aufheben.']),
  method_disabled: entry(['info', 'This sign-in method is switched off on this server (or for this account).', 'Tell them which methods are available: their passkey, or recovery.', 'Diese Anmeldemethode ist auf diesem Server (oder für dieses Konto) ausgeschaltet.', 'Nennen Sie die verfügbaren Methoden: Passkey oder Wiederherstellung.']),
  recovery_failed: entry(['warning', 'An account recovery attempt failed (wrong recovery code or e-mail code).', 'Ask them to check the code (each recovery code works once); if they have none left, start a support recovery.', 'Ein Wiederherstellungsversuch schlug fehl (falscher Wiederherstellungs- oder E-Mail-Code).', 'Bitten Sie, den Code zu prüfen (jeder Wiederherstellungscode gilt einmal); sind keine übrig, eine Support-Wiederherstellung starten.']),
  second_factor_required: entry(['info', 'The password was right, but the account also needs its second factor (passkey or TOTP) before anything else.', 'Ask them to finish the sign-in with their passkey or authenticator app code.', 'Das Passwort stimmte, aber das Konto braucht zuerst den zweiten Faktor (Passkey oder TOTP).', 'Bitten Sie, die Anmeldung mit Passkey oder dem Code der Authenticator-App abzuschließen.']),
  second_factor_mismatch: entry(['info', 'The sign-in must be finished with the factor that was asked for, not another one.', 'Ask them to use the method the page asks for.', 'Die Anmeldung muss mit dem verlangten Faktor abgeschlossen werden, nicht mit einem anderen.', 'Bitten Sie, die Methode zu verwenden, nach der die Seite fragt.']),
  signed_in: entry(['info', 'Sign-up was started while already signed in.', 'Ask them to sign out first (or add a passkey to the account they are in).', 'Die Registrierung wurde in angemeldetem Zustand begonnen.', 'Bitten Sie, sich zuerst abzumelden (oder dem aktuellen Konto einen Passkey hinzuzufügen).']),
  invalid_credentials: entry(['warning', 'Wrong username or password.', 'Ask them to check the username and use their passkey if they have one; after repeated failures the password locks.', 'Falscher Benutzername oder falsches Passwort.', 'Bitten Sie, den Benutzernamen zu prüfen und wenn möglich den Passkey zu nutzen; nach wiederholten Fehlern sperrt das Passwort.']),
  password_rejected: entry(['info', 'The new password is too short, too common, known from a breach, or contains the username.', 'Ask them to choose a longer passphrase (or better: a passkey).', 'Das neue Passwort ist zu kurz, zu häufig, aus einem Datenleck bekannt oder enthält den Benutzernamen.', 'Bitten Sie um eine längere Passphrase (oder besser: einen Passkey).']),
  totp_invalid: entry(['warning', 'The authenticator app code was wrong or already used (or the phone’s clock is off).', 'Ask them to wait for a new code and check their phone’s time is set automatically.', 'Der Code der Authenticator-App war falsch oder schon benutzt (oder die Uhr des Handys geht falsch).', 'Bitten Sie, auf einen neuen Code zu warten und die automatische Uhrzeit am Handy zu prüfen.']),
  totp_not_enrolled: entry(['info', 'The account has no authenticator app set up (or setup was not finished).', 'Ask them to set up the authenticator app again or use their passkey.', 'Für das Konto ist keine Authenticator-App eingerichtet (oder die Einrichtung wurde nicht abgeschlossen).', 'Bitten Sie, die App neu einzurichten oder den Passkey zu nutzen.']),
  external_id_taken: integration(['info', 'Another user already has this external id (the id in the company’s own user store).', NOTHING_EN, 'Ein anderer Nutzer hat diese externe ID (die ID im eigenen Nutzerverzeichnis des Unternehmens) schon.', NOTHING_DE]),
  api_key_invalid: integration(['warning', 'An API call with an unknown or wrong key.', NOTHING_EN, 'Ein API-Aufruf mit unbekanntem oder falschem Schlüssel.', NOTHING_DE]),
  api_key_expired: integration(['warning', 'An API call with an expired key.', NOTHING_EN, 'Ein API-Aufruf mit abgelaufenem Schlüssel.', NOTHING_DE]),
  api_key_revoked: integration(['warning', 'An API call with a revoked key (a leaked key still in use?).', NOTHING_EN, 'Ein API-Aufruf mit widerrufenem Schlüssel (ein geleakter Schlüssel noch in Gebrauch?).', NOTHING_DE]),
  insufficient_scope: integration(['warning', 'An API key or staff member tried something their scopes or role do not allow.', NOTHING_EN, 'Ein API-Schlüssel oder Mitarbeiter versuchte etwas, das Scopes oder Rolle nicht erlauben.', NOTHING_DE]),
  api_key_not_found: integration(['info', 'No such API key.', NOTHING_EN, 'Diesen API-Schlüssel gibt es nicht.', NOTHING_DE]),
  import_invalid: integration(['info', 'A user import file had bad lines; nothing was imported.', NOTHING_EN, 'Eine Importdatei hatte fehlerhafte Zeilen; nichts wurde importiert.', NOTHING_DE]),
  audience_not_allowed: integration(['info', 'A signed login result was asked for an app (audience) that is not configured.', APP_EN, 'Ein signiertes Login-Ergebnis wurde für eine nicht konfigurierte App (Audience) angefordert.', APP_DE]),
  login_result_invalid: integration(['warning', 'The app presented a login result that is forged, expired or for another app.', 'Ask them to sign in again.', 'Die App legte ein Login-Ergebnis vor, das gefälscht, abgelaufen oder für eine andere App ist.', 'Bitten Sie, sich erneut anzumelden.']),
  login_result_used: integration(['warning', 'A login result was presented a second time (a replay, or the app retried).', 'Ask them to sign in again.', 'Ein Login-Ergebnis wurde ein zweites Mal vorgelegt (Replay, oder die App hat wiederholt).', 'Bitten Sie, sich erneut anzumelden.']),
  signing_key_unavailable: integration(['danger', 'The server has no signing key ready for tokens.', RETRY_EN, 'Der Server hat keinen Signaturschlüssel für Tokens bereit.', RETRY_DE]),
  analytics_range_invalid: integration(['info', 'An analytics request asked for an impossible date range (not YYYY-MM-DD days, from after to, or too long).', NOTHING_EN, 'Eine Analyseanfrage nannte einen unmöglichen Zeitraum (keine Tage als JJJJ-MM-TT, Beginn nach Ende oder zu lang).', NOTHING_DE]),
  experiment_not_found: integration(['info', 'No A/B test has this key.', NOTHING_EN, 'Es gibt keinen A/B-Test mit diesem Schlüssel.', NOTHING_DE]),
  experiment_exists: integration(['info', 'An A/B test with this key exists already.', NOTHING_EN, 'Ein A/B-Test mit diesem Schlüssel existiert schon.', NOTHING_DE]),
  experiment_conflict: integration(['info', 'Another A/B test of the same feature is running.', NOTHING_EN, 'Ein anderer A/B-Test derselben Funktion läuft.', NOTHING_DE]),
  experiment_state: integration(['info', 'The A/B test is not in a state that allows this (draft, running, stopped).', NOTHING_EN, 'Der A/B-Test ist nicht in einem Zustand, der das erlaubt (Entwurf, laufend, beendet).', NOTHING_DE]),
  experiment_not_running: integration(['info', 'An exposure was reported for an A/B test that is not running.', NOTHING_EN, 'Eine Anzeige wurde für einen A/B-Test gemeldet, der nicht läuft.', NOTHING_DE]),
  variant_mismatch: integration(['info', 'The app reported an A/B variant that is not the one assigned to this user.', APP_EN, 'Die App meldete eine A/B-Variante, die diesem Nutzer nicht zugewiesen ist.', APP_DE]),
  invalid_experiment: integration(['info', 'An A/B test definition was not valid.', NOTHING_EN, 'Eine A/B-Test-Definition war ungültig.', NOTHING_DE]),
  rollout_feature_unknown: integration(['info', 'A rollout rule was asked for a feature that does not exist.', NOTHING_EN, 'Eine Rollout-Regel wurde für eine Funktion angefragt, die es nicht gibt.', NOTHING_DE]),
  rollout_rule_invalid: integration(['info', 'A rollout rule sent through the management API was not valid.', NOTHING_EN, 'Eine über die Management-API gesendete Rollout-Regel war ungültig.', NOTHING_DE]),
  webhook_url_invalid: integration(['info', 'A webhook endpoint URL was not a valid https URL.', NOTHING_EN, 'Eine Webhook-Endpunkt-URL war keine gültige https-URL.', NOTHING_DE]),
  webhook_url_refused: integration(['warning', 'A webhook endpoint URL pointed at an internal address (loopback, private, cloud metadata).', 'If the target is internal on purpose, the operator allows it with LATCHKEY_WEBHOOK_ALLOWED_TARGETS.', 'Eine Webhook-Endpunkt-URL zeigte auf eine interne Adresse (Loopback, privat, Cloud-Metadaten).', 'Ist das Ziel absichtlich intern, erlaubt der Betreiber es mit LATCHKEY_WEBHOOK_ALLOWED_TARGETS.']),
  webhook_event_types_invalid: integration(['info', 'A webhook endpoint named an event type that is not in the catalogue.', NOTHING_EN, 'Ein Webhook-Endpunkt nannte einen Ereignistyp, den es nicht gibt.', NOTHING_DE]),
  webhook_signin_failed_invalid: integration(['info', 'A webhook endpoint asked for sign-in failures in a way that does not exist (mode each, sampled with a rate, or summary).', NOTHING_EN, 'Ein Webhook-Endpunkt verlangte fehlgeschlagene Anmeldungen auf eine Art, die es nicht gibt (Modus each, sampled mit einer Rate oder summary).', NOTHING_DE]),
  webhook_signin_succeeded_invalid: integration(['info', 'A webhook endpoint asked for successful sign-ins in a way that does not exist (mode each, sampled with a rate, or summary).', NOTHING_EN, 'Ein Webhook-Endpunkt verlangte erfolgreiche Anmeldungen auf eine Art, die es nicht gibt (Modus each, sampled mit einer Rate oder summary).', NOTHING_DE]),
  webhook_endpoint_not_found: integration(['info', 'No such webhook endpoint.', NOTHING_EN, 'Diesen Webhook-Endpunkt gibt es nicht.', NOTHING_DE]),
  webhook_delivery_not_found: integration(['info', 'No such webhook delivery of this endpoint.', NOTHING_EN, 'Diese Webhook-Zustellung gibt es bei diesem Endpunkt nicht.', NOTHING_DE]),
  webhook_endpoint_disabled: integration(['info', 'A test or redelivery was asked of a disabled webhook endpoint.', 'Enable the endpoint first.', 'Ein Test oder eine erneute Zustellung wurde für einen deaktivierten Webhook-Endpunkt verlangt.', 'Aktivieren Sie den Endpunkt zuerst.']),
  append_token_invalid: entry(['info', 'The link or page that adds a passkey had expired or was already used.', 'Ask them to start “add a passkey” again from the app.', 'Der Link oder die Seite zum Hinzufügen eines Passkeys war abgelaufen oder schon benutzt.', 'Bitten Sie, „Passkey hinzufügen“ in der App neu zu starten.']),
  user_disabled: entry(['warning', 'The account is disabled: no sign-in by any method.', 'Check why it was disabled (timeline) before enabling it again.', 'Das Konto ist deaktiviert: keine Anmeldung mit irgendeiner Methode.', 'Prüfen Sie im Verlauf, warum es deaktiviert wurde, bevor Sie es wieder aktivieren.']),
  // Staff and the support console (issue 13): what a staff member's own refusals mean.
  staff_passkey_required: integration(['warning', 'A staff member reached the console without a user-verified passkey sign-in (e-mail code, password, or no fingerprint/PIN).', 'Sign in to the console again with your passkey and confirm with fingerprint, face or PIN.', 'Ein Mitarbeiter kam ohne Passkey-Anmeldung mit Nutzerverifikation in die Konsole (E-Mail-Code, Passwort oder ohne Finger/PIN).', 'Melden Sie sich erneut mit Ihrem Passkey an und bestätigen Sie mit Finger, Gesicht oder PIN.']),
  staff_session_expired: integration(['info', 'A staff member\'s console access ran out: 30 minutes unused, or 8 hours since their last passkey check (both configurable).', 'Sign in to the console again with your passkey.', 'Der Konsolenzugang eines Mitarbeiters ist abgelaufen: 30 Minuten ungenutzt oder 8 Stunden seit der letzten Passkey-Prüfung (beides einstellbar).', 'Melden Sie sich mit Ihrem Passkey erneut in der Konsole an.']),
  reason_required: integration(['info', 'A destructive console action was sent without a written reason (3 to 500 characters).', 'Write why you do this; it goes into the audit log.', 'Eine einschneidende Konsolenaktion kam ohne schriftliche Begründung (3 bis 500 Zeichen).', 'Schreiben Sie, warum Sie das tun; es kommt ins Audit-Log.']),
  staff_target_forbidden: integration(['warning', "Someone without the admin role tried to change a staff member's account.", 'Ask an admin to do it.', 'Jemand ohne Admin-Rolle versuchte, das Konto eines Mitarbeiters zu ändern.', 'Bitten Sie einen Admin darum.']),
  last_admin: integration(['info', 'The last admin cannot be demoted, removed, disabled or deleted.', 'Make another admin first.', 'Der letzte Admin kann nicht herabgestuft, entfernt, deaktiviert oder gelöscht werden.', 'Ernennen Sie zuerst einen weiteren Admin.']),
  own_role_raise: integration(['warning', 'A staff member tried to raise their own role.', 'Another admin must do it.', 'Ein Mitarbeiter versuchte, seine eigene Rolle zu erhöhen.', 'Das muss ein anderer Admin tun.']),
  staff_not_found: integration(['info', 'No staff member has this user id.', NOTHING_EN, 'Kein Mitarbeiter hat diese Nutzer-ID.', NOTHING_DE]),
  already_staff: integration(['info', 'The user is a staff member already.', 'Change the role instead.', 'Der Nutzer ist schon Mitarbeiter.', 'Ändern Sie stattdessen die Rolle.']),
  recovery_email_missing: integration(['info', 'The user has no verified e-mail address, so no recovery link could be sent.', 'Start the recovery with a code instead and read it out to them.', 'Der Nutzer hat keine bestätigte E-Mail-Adresse, daher konnte kein Wiederherstellungslink gehen.', 'Starten Sie die Wiederherstellung stattdessen mit einem Code und lesen Sie ihn vor.']),
  support_code_invalid: entry(['info', 'A recovery code or link from support was wrong, already used, or older than 15 minutes.', 'Check the code with them (letters and digits, dashes optional); if it expired or was used, start a new recovery.', 'Ein Wiederherstellungscode oder -link vom Support war falsch, schon benutzt oder älter als 15 Minuten.', 'Prüfen Sie den Code gemeinsam (Buchstaben und Ziffern, Bindestriche optional); ist er abgelaufen oder benutzt, starten Sie eine neue Wiederherstellung.']),
};

/** What the elements report from the browser (`ceremony.reported`, field `errorName` or the outcome). */
export const CLIENT_EXPLANATIONS: Record<string, Explanation> = {
  cancelled: entry(['info', 'The passkey prompt closed before its timeout (NotAllowedError or AbortError): the user cancelled it, or the device had no passkey for this site (browsers report both the same way, for privacy).', 'Ask them to try again and pick the passkey for this site; if none is offered, they may be on another device or profile than the one with the passkey (or use their phone via the QR code).', 'Der Passkey-Dialog schloss sich vor Ablauf (NotAllowedError oder AbortError): abgebrochen, oder auf dem Gerät ist kein Passkey für diese Seite (Browser melden beides gleich, aus Datenschutzgründen).', 'Bitten Sie um einen neuen Versuch mit dem Passkey für diese Seite; wird keiner angeboten, ist es evtl. das falsche Gerät oder Profil (oder per QR-Code das Handy nutzen).']),
  timed_out: entry(['info', 'The passkey prompt stayed open until it timed out (NotAllowedError after the full timeout): the user did not finish (walked away, waited for a phone that never connected).', 'Ask them to try again and confirm promptly (fingerprint, face or PIN); with a phone, keep Bluetooth on for the QR code flow.', 'Der Passkey-Dialog blieb offen, bis er ablief (NotAllowedError nach der vollen Zeit): nicht abgeschlossen (weggegangen, auf ein Handy gewartet, das sich nie verband).', 'Bitten Sie um einen neuen Versuch mit zügiger Bestätigung (Finger, Gesicht oder PIN); beim Handy Bluetooth für den QR-Code-Ablauf anlassen.']),
  NotAllowedError: entry(['info', 'The browser refused or the user cancelled the passkey prompt, or it timed out; also when no passkey for this site was found on the device.', 'Ask them to try again and pick the passkey for this site; if none is offered, try the device that has it or the phone via QR code.', 'Der Browser hat den Passkey-Dialog verweigert, der Nutzer brach ab oder er lief ab; auch wenn kein Passkey für diese Seite auf dem Gerät ist.', 'Bitten Sie um einen neuen Versuch mit dem Passkey für diese Seite; wird keiner angeboten, das Gerät mit dem Passkey oder per QR-Code das Handy nutzen.']),
  AbortError: entry(['info', 'The ceremony was cancelled by the page (its own cancel button, or a newer ceremony replaced it).', 'Ask them to try again without switching between sign-in options.', 'Die Zeremonie wurde von der Seite abgebrochen (eigener Abbrechen-Knopf oder eine neuere Zeremonie ersetzte sie).', 'Bitten Sie um einen neuen Versuch, ohne zwischen Anmeldeoptionen zu wechseln.']),
  InvalidStateError: entry(['info', 'Registration: this authenticator already holds a passkey for this account.', 'They already have a passkey on this device: ask them to sign in with it (or use another device to add a second one).', 'Registrierung: Dieser Authenticator hat schon einen Passkey für dieses Konto.', 'Auf dem Gerät gibt es schon einen Passkey: damit anmelden (oder auf einem anderen Gerät einen zweiten anlegen).']),
  SecurityError: entry(['warning', 'The browser refused because the page’s address does not fit the relying party id (RP ID) or the page is not served over HTTPS: a server or site misconfiguration, or a look-alike site.', 'Ask which address is in their address bar; if it is ours, escalate to the operators (RP ID / origins); if not, tell them to leave that site.', 'Der Browser lehnte ab, weil die Seitenadresse nicht zur RP-ID passt oder die Seite nicht per HTTPS kommt: falsche Konfiguration oder eine nachgemachte Seite.', 'Fragen Sie nach der Adresse in der Adressleiste; ist es unsere, an den Betrieb eskalieren (RP-ID / Origins); sonst die Seite verlassen.']),
  NotSupportedError: entry(['info', 'The browser or device supports none of the passkey types or algorithms offered.', 'Ask them to update the browser or use another device, e.g. their phone via QR code.', 'Browser oder Gerät unterstützen keinen der angebotenen Passkey-Typen oder Algorithmen.', 'Bitten Sie, den Browser zu aktualisieren oder ein anderes Gerät (z. B. das Handy per QR-Code) zu nutzen.']),
  ConstraintError: entry(['info', 'The authenticator cannot meet a requirement (e.g. user verification or a discoverable passkey) — often a security key without a PIN set.', 'Ask them to set a PIN on the security key, or to use their phone or computer’s built-in passkey instead.', 'Der Authenticator kann eine Anforderung nicht erfüllen (z. B. Nutzerverifikation oder auffindbarer Passkey) — oft ein Sicherheitsschlüssel ohne PIN.', 'Bitten Sie, am Sicherheitsschlüssel eine PIN zu setzen oder den eingebauten Passkey von Handy oder Computer zu nutzen.']),
  UnknownError: entry(['warning', 'The authenticator failed for a reason it did not name (hardware, OS or password manager problem).', 'Ask them to restart the browser, then try again; otherwise try another passkey provider.', 'Der Authenticator schlug ohne genannten Grund fehl (Hardware-, System- oder Passwortmanager-Problem).', 'Bitten Sie, den Browser neu zu starten und es erneut zu versuchen; sonst einen anderen Passkey-Anbieter nutzen.']),
  TypeError: entry(['warning', 'The page passed options the browser could not use (a bug or an old browser).', 'Ask them to update the browser; pass the time and browser to the developers.', 'Die Seite übergab Optionen, die der Browser nicht verarbeiten konnte (ein Fehler oder ein alter Browser).', 'Bitten Sie, den Browser zu aktualisieren; Uhrzeit und Browser an die Entwickler weitergeben.']),
  NotReadableError: entry(['warning', 'The authenticator could not be read (a security key removed too early, or a hardware fault).', 'Ask them to reconnect the security key and try again.', 'Der Authenticator konnte nicht gelesen werden (Sicherheitsschlüssel zu früh entfernt oder Hardwarefehler).', 'Bitten Sie, den Sicherheitsschlüssel neu zu verbinden und es erneut zu versuchen.']),
};

/**
 * Why the server refused a passkey, matched on the audit row's reason (the library's or our
 * own message). First match wins; more specific patterns come first.
 */
export const REASON_EXPLANATIONS: { id: string; pattern: RegExp; explanation: Explanation }[] = [
  {
    id: 'origin_mismatch',
    pattern: /response origin "/i,
    explanation: entry(['danger', 'The passkey was used on another web site than ours (the origin did not match). Possible phishing: a look-alike site relayed the sign-in.', 'Ask which address they typed or clicked; if it is not ours, tell them never to sign in there, and check the account for other activity.', 'Der Passkey wurde auf einer anderen Website als unserer verwendet (Origin passt nicht). Möglicherweise Phishing: Eine nachgemachte Seite reichte die Anmeldung weiter.', 'Fragen Sie, welche Adresse getippt oder angeklickt wurde; ist es nicht unsere, dort nie anmelden, und das Konto auf weitere Aktivität prüfen.']),
  },
  {
    id: 'cross_origin',
    pattern: /cross-origin|topOrigin|top origin/i,
    explanation: entry(['danger', 'The sign-in ran inside a frame of another site, which is not allowed.', 'Ask them to open our site directly, not through another page.', 'Die Anmeldung lief in einem Rahmen einer anderen Seite, was nicht erlaubt ist.', 'Bitten Sie, unsere Seite direkt zu öffnen, nicht über eine andere Seite.']),
  },
  {
    id: 'rp_id_mismatch',
    pattern: /RP ID hash/i,
    explanation: entry(['danger', 'The authenticator signed for another relying party (RP ID hash mismatch): a passkey of another site, a misconfigured RP ID, or a forgery.', 'Ask them to use the passkey created on this site; escalate if the RP ID configuration changed recently.', 'Der Authenticator hat für eine andere Relying Party signiert (RP-ID-Hash passt nicht): Passkey einer anderen Seite, falsche RP-ID oder Fälschung.', 'Bitten Sie, den auf dieser Seite erstellten Passkey zu nutzen; eskalieren, wenn die RP-ID-Konfiguration kürzlich geändert wurde.']),
  },
  {
    id: 'user_verification_missing',
    pattern: /user could not be verified|user verification/i,
    explanation: entry(['warning', 'The passkey was used without user verification (no fingerprint, face or PIN), which this server requires.', 'Ask them to set up a screen lock or PIN on the device (or security key) and confirm with it.', 'Der Passkey wurde ohne Nutzerverifikation (Finger, Gesicht oder PIN) verwendet, die dieser Server verlangt.', 'Bitten Sie, eine Bildschirmsperre oder PIN am Gerät (oder Sicherheitsschlüssel) einzurichten und damit zu bestätigen.']),
  },
  {
    id: 'user_not_present',
    pattern: /not present/i,
    explanation: entry(['warning', 'The authenticator did not confirm a person was present (no touch or tap).', 'Ask them to touch the security key or confirm the prompt.', 'Der Authenticator bestätigte keine Anwesenheit (keine Berührung).', 'Bitten Sie, den Sicherheitsschlüssel zu berühren oder den Dialog zu bestätigen.']),
  },
  {
    id: 'counter_went_backwards',
    pattern: /counter/i,
    explanation: entry(['danger', 'The passkey’s signature counter went backwards: possible cloned authenticator. The sign-in was refused.', 'Remove that passkey and investigate: ask whether they copied or restored the key; let them sign in another way and register a new passkey.', 'Der Signaturzähler des Passkeys ging zurück: möglicherweise ein geklonter Authenticator. Die Anmeldung wurde abgelehnt.', 'Entfernen Sie den Passkey und prüfen Sie den Fall: Wurde der Schlüssel kopiert oder wiederhergestellt? Anders anmelden lassen und einen neuen Passkey registrieren.']),
  },
  {
    id: 'backup_eligibility_changed',
    pattern: /backup (eligibility|state)/i,
    explanation: entry(['danger', 'The passkey’s backup eligibility differs from what it had at registration: another authenticator, or a forgery.', 'Remove that passkey and ask them to register a new one.', 'Die Backup-Eignung des Passkeys weicht von der Registrierung ab: ein anderer Authenticator oder eine Fälschung.', 'Entfernen Sie den Passkey und bitten Sie, einen neuen zu registrieren.']),
  },
  {
    id: 'challenge_expired',
    pattern: /challenge expired/i,
    explanation: entry(['info', 'The attempt took longer than five minutes from start to finish.', 'Ask them to start again and finish promptly.', 'Der Versuch dauerte vom Start bis zum Abschluss länger als fünf Minuten.', 'Bitten Sie, neu zu beginnen und zügig abzuschließen.']),
  },
  {
    id: 'challenge_used',
    pattern: /already used challenge|used by a concurrent verify|unexpected .* challenge/i,
    explanation: entry(['warning', 'The attempt was answered twice (a double click, a retry) or replayed.', 'Ask them to start once more and click only once; repeated replays from elsewhere deserve a closer look.', 'Der Versuch wurde zweimal beantwortet (Doppelklick, Wiederholung) oder wiederholt eingespielt.', 'Bitten Sie, noch einmal zu beginnen und nur einmal zu klicken; gehäufte Wiederholungen von anderswo genauer prüfen.']),
  },
  {
    id: 'ceremony_binding',
    pattern: /binding/i,
    explanation: entry(['warning', 'The attempt was finished by another browser or tab than the one that started it (cookies blocked, or a relayed sign-in).', 'Ask them to allow cookies for our site and stay in one tab.', 'Der Versuch wurde von einem anderen Browser oder Tab beendet als begonnen (Cookies blockiert oder weitergereichte Anmeldung).', 'Bitten Sie, Cookies für unsere Seite zu erlauben und in einem Tab zu bleiben.']),
  },
  {
    id: 'unknown_credential',
    pattern: /^unknown credential$/i,
    explanation: entry(['warning', 'The device offered a passkey this server does not know: it was deleted here (by the user or support) but is still on the device.', 'Ask them to delete that passkey from the device’s password manager (apps that support the WebAuthn Signal API remove it automatically), then sign in another way or register a new one.', 'Das Gerät bot einen Passkey an, den dieser Server nicht kennt: Er wurde hier gelöscht (vom Nutzer oder Support), liegt aber noch auf dem Gerät.', 'Bitten Sie, diesen Passkey im Passwortmanager des Geräts zu löschen (Apps mit WebAuthn Signal API entfernen ihn selbst), dann anders anmelden oder neu registrieren.']),
  },
  {
    id: 'wrong_account',
    pattern: /another user|userHandle|allowCredentials/i,
    explanation: entry(['warning', 'The passkey belongs to another account than the username entered.', 'Ask them to check the username, or sign in with the passkey picker without typing a name.', 'Der Passkey gehört zu einem anderen Konto als dem eingegebenen Benutzernamen.', 'Bitten Sie, den Benutzernamen zu prüfen oder ohne Namen über die Passkey-Auswahl anzumelden.']),
  },
  {
    id: 'account_disabled',
    pattern: /^account is /i,
    explanation: entry(['warning', 'The passkey is fine, but the account is disabled.', 'Check why it was disabled (timeline) before enabling it again.', 'Der Passkey ist in Ordnung, aber das Konto ist deaktiviert.', 'Prüfen Sie im Verlauf, warum es deaktiviert wurde, bevor Sie es wieder aktivieren.']),
  },
  {
    id: 'bad_signature',
    pattern: /did not verify|signature/i,
    explanation: entry(['danger', 'The passkey’s signature did not verify: a corrupted or forged answer.', 'Ask them to try again; if it repeats, remove the passkey and register a new one.', 'Die Signatur des Passkeys war ungültig: eine beschädigte oder gefälschte Antwort.', 'Bitten Sie um einen neuen Versuch; wiederholt es sich, den Passkey entfernen und neu registrieren.']),
  },
  {
    id: 'algorithm',
    pattern: /alg/i,
    explanation: entry(['info', 'The authenticator used a signature algorithm this server does not accept.', 'Suggest another passkey provider (e.g. their phone).', 'Der Authenticator nutzte einen Signaturalgorithmus, den dieser Server nicht akzeptiert.', 'Schlagen Sie einen anderen Passkey-Anbieter vor (z. B. das Handy).']),
  },
];

/** Every explanation by key (`code:…`, `client:…`, `reason:…`). */
export function allExplanations(): Map<string, Explanation> {
  const all = new Map<string, Explanation>();
  for (const [code, e] of Object.entries(ERROR_CODE_EXPLANATIONS)) all.set(`code:${code}`, e);
  for (const [name, e] of Object.entries(CLIENT_EXPLANATIONS)) all.set(`client:${name}`, e);
  for (const r of REASON_EXPLANATIONS) all.set(`reason:${r.id}`, r.explanation);
  return all;
}

/** The fields of an audit event an explanation is chosen by. */
export interface ExplainableEvent {
  type: string;
  outcome: 'success' | 'failure';
  errorCode: string | null;
  reason: string | null;
  data: Record<string, unknown> | null;
}

/**
 * The explanation of a failed event: a client report by its error name or outcome; a refused
 * passkey by its reason (more precise than the one public code); else by its error code.
 * Successes and unknown failures get none.
 */
export function explainEvent(event: ExplainableEvent, language: Language = 'en'): LocalizedExplanation | undefined {
  if (event.outcome !== 'failure') return undefined;
  const localize = (key: string, e: Explanation | undefined): LocalizedExplanation | undefined =>
    e && { key, meaning: e.meaning[language], tellUser: e.tellUser[language], severity: e.severity };
  if (event.type === 'ceremony.reported') {
    const name = typeof event.data?.errorName === 'string' ? event.data.errorName : undefined;
    const outcome = typeof event.data?.outcome === 'string' ? event.data.outcome : undefined;
    if (name && Object.hasOwn(CLIENT_EXPLANATIONS, name)) return localize(`client:${name}`, CLIENT_EXPLANATIONS[name]);
    if (name && Object.hasOwn(ERROR_CODE_EXPLANATIONS, name)) return localize(`code:${name}`, ERROR_CODE_EXPLANATIONS[name]);
    if (outcome && Object.hasOwn(CLIENT_EXPLANATIONS, outcome)) return localize(`client:${outcome}`, CLIENT_EXPLANATIONS[outcome]);
    return undefined;
  }
  if (event.type === 'passkey.clone_suspected') return localize('reason:counter_went_backwards', REASON_EXPLANATIONS.find((r) => r.id === 'counter_went_backwards')?.explanation);
  if (event.reason && (event.errorCode === 'verification_failed' || event.errorCode === 'challenge_invalid' || event.errorCode === 'registration_failed')) {
    const match = REASON_EXPLANATIONS.find((r) => r.pattern.test(event.reason ?? ''));
    if (match) return localize(`reason:${match.id}`, match.explanation);
  }
  if (event.errorCode && Object.hasOwn(ERROR_CODE_EXPLANATIONS, event.errorCode)) return localize(`code:${event.errorCode}`, ERROR_CODE_EXPLANATIONS[event.errorCode]);
  return undefined;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/**
 * The README section "What each failure means" (English), generated from the table:
 * `node packages/server/src/modules/support/explanations-docs.ts` prints it; a test checks the README has it.
 */
export function explanationsMarkdown(): string {
  const rows = (entries: [string, Explanation][]) =>
    entries.map(([key, e]) => `| \`${key}\` | ${e.severity} | ${cell(e.meaning.en)} | ${cell(e.tellUser.en)} |`).join('\n');
  const header = '| code | severity | what it means | what to tell the user |\n| --- | --- | --- | --- |';
  const codes = Object.entries(ERROR_CODE_EXPLANATIONS).sort(([a], [b]) => a.localeCompare(b));
  return [
    '<!-- generated from packages/server/src/modules/support/explanations.ts: node packages/server/src/modules/support/explanations-docs.ts -->',
    '**Error codes users can hit** (the `code` of a problem+json answer, and of failed audit events):',
    '',
    header,
    rows(codes.filter(([, e]) => e.userFacing)),
    '',
    '**Error codes of integrations** (API keys, imports, signed tokens; nothing for the end user):',
    '',
    header,
    rows(codes.filter(([, e]) => !e.userFacing)),
    '',
    '**In the browser** (what the web components report, `ceremony.reported`: the WebAuthn DOMException name, or `cancelled` / `timed_out` told apart by how long the prompt was open):',
    '',
    header.replace('| code |', '| report |'),
    rows(Object.entries(CLIENT_EXPLANATIONS)),
    '',
    '**Why the server refused a passkey** (the audit reason behind `verification_failed`, `challenge_invalid` and `registration_failed`; clients never see it):',
    '',
    header.replace('| code |', '| reason |'),
    rows(REASON_EXPLANATIONS.map((r) => [r.id, r.explanation])),
    '<!-- end of generated section -->',
  ].join('\n');
}
