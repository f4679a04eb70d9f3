import { css } from 'lit';

/**
 * Shared look of the elements. Every colour, radius and font comes from a `--latchkey-*` custom
 * property with a light default and a dark one under `prefers-color-scheme: dark`.
 */
export const theme = css`
  :host {
    --_bg: var(--latchkey-background, #ffffff);
    --_fg: var(--latchkey-foreground, #1b1f24);
    --_muted: var(--latchkey-muted, #59636e);
    --_border: var(--latchkey-border, #d1d9e0);
    --_accent: var(--latchkey-accent, #0b57d0);
    --_accent-fg: var(--latchkey-accent-foreground, #ffffff);
    --_danger: var(--latchkey-danger, #b3261e);
    --_success: var(--latchkey-success, #146c2e);
    --_radius: var(--latchkey-radius, 10px);
    --_focus: var(--latchkey-focus-ring, #0b57d0);
    display: block;
    color: var(--_fg);
    font-family: var(--latchkey-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: 1rem;
    line-height: 1.5;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_bg: var(--latchkey-background, #1e2228);
      --_fg: var(--latchkey-foreground, #e6e9ed);
      --_muted: var(--latchkey-muted, #a3adb8);
      --_border: var(--latchkey-border, #3d444d);
      --_accent: var(--latchkey-accent, #a8c7fa);
      --_accent-fg: var(--latchkey-accent-foreground, #062e6f);
      --_danger: var(--latchkey-danger, #ffb4ab);
      --_success: var(--latchkey-success, #80d99a);
      --_focus: var(--latchkey-focus-ring, #a8c7fa);
    }
  }
  [hidden] {
    display: none !important;
  }
  .box {
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 1.5rem;
  }
  @media (max-width: 420px) {
    .box {
      padding: 1rem;
    }
  }
  h2 {
    font-size: 1.25rem;
    margin: 0 0 1rem;
  }
  label {
    display: block;
    font-weight: 600;
    margin-bottom: 0.25rem;
  }
  input {
    box-sizing: border-box;
    width: 100%;
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) * 0.6);
    padding: 0.6rem 0.75rem;
  }
  input[aria-invalid='true'] {
    border-color: var(--_danger);
  }
  .hint {
    color: var(--_muted);
    font-size: 0.875rem;
    margin: 0.25rem 0 1rem;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  button {
    font: inherit;
    font-weight: 600;
    cursor: pointer;
    border-radius: calc(var(--_radius) * 0.6);
    padding: 0.55rem 1rem;
    border: 1px solid var(--_border);
    background: transparent;
    color: var(--_fg);
  }
  button.primary {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-fg);
  }
  button.danger {
    border-color: var(--_danger);
    color: var(--_danger);
  }
  button.link {
    border: none;
    padding: 0.25rem 0;
    color: var(--_accent);
    text-decoration: underline;
    font-weight: 400;
  }
  button:disabled {
    opacity: 0.6;
    cursor: progress;
  }
  button:focus-visible,
  input:focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  .status {
    margin: 1rem 0 0;
    min-height: 1.5em;
  }
  .status:empty {
    margin: 0;
    min-height: 0;
  }
  .status[data-kind='error'] {
    color: var(--_danger);
  }
  .status[data-kind='success'] {
    color: var(--_success);
  }
  .status .actions {
    margin-top: 0.5rem;
  }
  .muted {
    color: var(--_muted);
  }
`;
