/**
 * The Latchkey support console, served by the server at `/admin` (one module script under the
 * strict CSP). Defines the elements and applies the document theme; the page holds
 * `<latchkey-console>`.
 */
import { LkActionDialog } from './action-dialog.ts';
import { LatchkeyConsole } from './app.ts';
import { AuditPage } from './pages/audit.ts';
import { ApiKeysPage, SettingsPage, StaffPage } from './pages/admin.ts';
import { WebhooksPage } from './pages/webhooks.ts';
import { LkChart } from './charts.ts';
import { AdoptionPage } from './pages/adoption.ts';
import { ExperimentsPage } from './pages/experiments.ts';
import { RolloutPage } from './pages/rollout.ts';
import { FindPage } from './pages/find.ts';
import { EnrollPage, NotFoundPage, SignInPage } from './pages/sign-in.ts';
import { UserPage } from './pages/user.ts';
import { documentTheme } from './theme.ts';

const ELEMENTS: Record<string, CustomElementConstructor> = {
  'latchkey-console': LatchkeyConsole,
  'lk-action-dialog': LkActionDialog,
  'lk-sign-in-page': SignInPage,
  'lk-enroll-page': EnrollPage,
  'lk-not-found-page': NotFoundPage,
  'lk-find-page': FindPage,
  'lk-user-page': UserPage,
  'lk-audit-page': AuditPage,
  'lk-staff-page': StaffPage,
  'lk-api-keys-page': ApiKeysPage,
  'lk-settings-page': SettingsPage,
  'lk-webhooks-page': WebhooksPage,
  'lk-chart': LkChart,
  'lk-adoption-page': AdoptionPage,
  'lk-rollout-page': RolloutPage,
  'lk-experiments-page': ExperimentsPage,
};

/** Registers every console element (once) and adopts the document-level colour tokens. */
export function defineConsole(): void {
  if (documentTheme.styleSheet && !document.adoptedStyleSheets.includes(documentTheme.styleSheet)) {
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, documentTheme.styleSheet];
  }
  for (const [tag, element] of Object.entries(ELEMENTS)) if (!customElements.get(tag)) customElements.define(tag, element);
}

defineConsole();
