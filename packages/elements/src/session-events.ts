/** Events after which someone is signed in on the page: from `<latchkey-auth>` and `<latchkey-email-code>`. */
const SIGNED_IN = ['latchkey-signed-in', 'latchkey-signed-up'] as const;
/** From an element that found no session, and from the SDK's `signOut()` (dispatched on `window`). */
const SIGNED_OUT = 'latchkey-signed-out';

/**
 * Lets an element follow the session of the page: `onChange(true)` after a sign-in or sign-up by
 * any element on the page, `onChange(false)` after a sign-out. The element's own events are not
 * echoed back to it. The events bubble and are composed, so listening on `window` hears them from
 * every shadow root. Returns the function that stops listening (call it on disconnect).
 */
export function followSession(host: HTMLElement, onChange: (signedIn: boolean) => void): () => void {
  if (typeof window === 'undefined') return () => undefined;
  const listener = (event: Event) => {
    if (event.composedPath().includes(host)) return;
    onChange(event.type !== SIGNED_OUT);
  };
  const types = [...SIGNED_IN, SIGNED_OUT];
  for (const type of types) window.addEventListener(type, listener);
  return () => {
    for (const type of types) window.removeEventListener(type, listener);
  };
}
