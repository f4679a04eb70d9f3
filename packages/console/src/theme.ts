import { css } from 'lit';

/** The dark theme's tokens: under `prefers-color-scheme: dark` unless light was chosen, and when dark was chosen. */
const darkTokens = css`
  --lk-bg: #15181d;
  --lk-surface: #1e2228;
  --lk-fg: #e6e9ed;
  --lk-muted: #a3adb8;
  --lk-border: #3d444d;
  --lk-accent: #a8c7fa;
  --lk-accent-fg: #062e6f;
  --lk-danger: #ffb4ab;
  --lk-danger-bg: #3b1512;
  --lk-warning: #ffd68a;
  --lk-warning-bg: #3a2a05;
  --lk-success: #80d99a;
  --lk-success-bg: #0f2e19;
  --lk-info-bg: #17263d;
  --lk-focus: #a8c7fa;
  color-scheme: dark;
`;

/**
 * Colour tokens for the whole document, light by default, dark under `prefers-color-scheme: dark`
 * unless the user picked a theme (`data-theme` on <html>, set by the toggle). Custom properties
 * inherit into every shadow root, so the elements only ever say `var(--lk-…)`. Adopted as a
 * constructed stylesheet: no <style> element, nothing the strict CSP (style-src 'self') refuses.
 * Contrast of text on background is at least 4.5:1 in both themes (axe checks it).
 */
export const documentTheme = css`
  :root {
    --lk-bg: #f6f8fa;
    --lk-surface: #ffffff;
    --lk-fg: #1b1f24;
    --lk-muted: #555f6a;
    --lk-border: #c9d1d9;
    --lk-accent: #0b57d0;
    --lk-accent-fg: #ffffff;
    --lk-danger: #b3261e;
    --lk-danger-bg: #fdecea;
    --lk-warning: #7a4a00;
    --lk-warning-bg: #fff4d6;
    --lk-success: #146c2e;
    --lk-success-bg: #e6f4ea;
    --lk-info-bg: #e8f0fe;
    --lk-focus: #0b57d0;
    --lk-radius: 10px;
    --lk-font: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    --lk-mono: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
    color-scheme: light;
  }
  @media (prefers-color-scheme: dark) {
    :root:not([data-theme='light']) {
      ${darkTokens}
    }
  }
  :root[data-theme='dark'] {
    ${darkTokens}
  }
  html,
  body {
    margin: 0;
    background: var(--lk-bg);
    color: var(--lk-fg);
    font-family: var(--lk-font);
  }
`;

/** What every console element shares: type, cards, forms, buttons, tables, badges, focus rings. */
export const base = css`
  :host {
    display: block;
    color: var(--lk-fg);
    font-family: var(--lk-font);
    font-size: 1rem;
    line-height: 1.5;
  }
  [hidden] {
    display: none !important;
  }
  h1 {
    font-size: 1.5rem;
    margin: 0 0 1rem;
  }
  h2 {
    font-size: 1.15rem;
    margin: 0 0 0.75rem;
  }
  h3 {
    font-size: 1rem;
    margin: 0 0 0.5rem;
  }
  a {
    color: var(--lk-accent);
  }
  .card {
    background: var(--lk-surface);
    border: 1px solid var(--lk-border);
    border-radius: var(--lk-radius);
    padding: 1.25rem;
    margin: 0 0 1rem;
  }
  label {
    display: block;
    font-weight: 600;
    margin-bottom: 0.25rem;
  }
  input,
  select,
  textarea {
    box-sizing: border-box;
    font: inherit;
    color: var(--lk-fg);
    background: var(--lk-surface);
    border: 1px solid var(--lk-border);
    border-radius: 6px;
    padding: 0.5rem 0.65rem;
  }
  input[type='checkbox'] {
    width: auto;
    accent-color: var(--lk-accent);
  }
  textarea {
    width: 100%;
    min-height: 5rem;
    resize: vertical;
  }
  .field {
    margin: 0 0 0.75rem;
  }
  .field input,
  .field select {
    width: 100%;
  }
  .hint {
    color: var(--lk-muted);
    font-size: 0.875rem;
    margin: 0.25rem 0 0;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  button,
  .button {
    font: inherit;
    font-weight: 600;
    cursor: pointer;
    border-radius: 6px;
    padding: 0.45rem 0.9rem;
    border: 1px solid var(--lk-border);
    background: var(--lk-surface);
    color: var(--lk-fg);
    text-decoration: none;
    display: inline-block;
  }
  button.primary,
  .button.primary {
    background: var(--lk-accent);
    border-color: var(--lk-accent);
    color: var(--lk-accent-fg);
  }
  button.danger {
    border-color: var(--lk-danger);
    color: var(--lk-danger);
  }
  button.danger-fill {
    background: var(--lk-danger);
    border-color: var(--lk-danger);
    color: var(--lk-surface);
  }
  button.small {
    padding: 0.2rem 0.6rem;
    font-size: 0.875rem;
  }
  button[aria-pressed='true'] {
    background: var(--lk-info-bg);
    border-color: var(--lk-accent);
    color: var(--lk-accent);
  }
  button:disabled {
    opacity: 0.6;
    cursor: progress;
  }
  :focus-visible {
    outline: 3px solid var(--lk-focus);
    outline-offset: 2px;
  }
  /* Headings take focus only so that a screen reader starts there after a route change. */
  h1[tabindex='-1']:focus {
    outline: none;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 0.925rem;
  }
  th,
  td {
    text-align: left;
    padding: 0.45rem 0.5rem;
    border-bottom: 1px solid var(--lk-border);
    vertical-align: top;
  }
  th {
    font-weight: 600;
    color: var(--lk-muted);
    font-size: 0.85rem;
  }
  .badge {
    display: inline-block;
    font-size: 0.78rem;
    font-weight: 600;
    border-radius: 999px;
    padding: 0.05rem 0.55rem;
    border: 1px solid var(--lk-border);
    color: var(--lk-muted);
    white-space: nowrap;
  }
  .badge.ok {
    border-color: var(--lk-success);
    color: var(--lk-success);
    background: var(--lk-success-bg);
  }
  .badge.bad {
    border-color: var(--lk-danger);
    color: var(--lk-danger);
    background: var(--lk-danger-bg);
  }
  .badge.warn {
    border-color: var(--lk-warning);
    color: var(--lk-warning);
    background: var(--lk-warning-bg);
  }
  .muted {
    color: var(--lk-muted);
  }
  .mono {
    font-family: var(--lk-mono);
    font-size: 0.875rem;
    overflow-wrap: anywhere;
  }
  .error {
    color: var(--lk-danger);
  }
  .notice {
    border-radius: 6px;
    padding: 0.6rem 0.8rem;
    margin: 0 0 1rem;
    background: var(--lk-info-bg);
  }
  .notice.error {
    background: var(--lk-danger-bg);
  }
  .notice.success {
    background: var(--lk-success-bg);
    color: var(--lk-success);
  }
  dl.facts {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.3rem 1rem;
    margin: 0;
  }
  dl.facts dt {
    color: var(--lk-muted);
  }
  dl.facts dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
