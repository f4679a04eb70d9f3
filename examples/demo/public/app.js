// Latchkey demo: a small app built only from the public elements and SDK (served as /latchkey.js).
// Copy it: the home page hosts <latchkey-auth>, the account page <latchkey-passkeys> and sign-out.
import { LatchkeyClient } from '/latchkey.js';

const latchkey = new LatchkeyClient();
const page = document.body.dataset.page;

// Why the elements show what they show: the server's passkey decisions (README, "Passkey
// intelligence"), one short line for whoever tries the demo. Leave this out of a real app.
document.addEventListener('latchkey-decisions', (event) => {
  const why = document.getElementById('why');
  if (!why) return;
  const { decisions } = event.detail;
  const part = (name, d) => `${name}: ${d.offer ? 'yes' : 'no'} (${d.reason})`;
  why.textContent =
    event.target.localName === 'latchkey-passkey-append'
      ? `Why: ${part('passkey prompt', decisions.appendPrompt)}, variant ${decisions.appendPrompt.variant}`
      : `Why: ${part('passkey button', decisions.passkeyButton)} · ${part('autofill', decisions.autofill)} · ${part('passkey sign-up', decisions.passkeyFirstSignUp)}`;
  why.hidden = false;
});

if (page === 'home') {
  const auth = document.getElementById('auth');
  // Where to go once signed in (or signed up): the account page shows the new passkey.
  const toAccount = (event) => {
    const notice = event.type === 'latchkey-signed-up' ? 'signed-up' : event.detail?.via === 'email_code' ? 'signed-in-code' : 'signed-in';
    sessionStorage.setItem('demo:notice', notice);
    location.assign('/account.html');
  };
  // Signed in with a passkey from <latchkey-auth>, or with a code from <latchkey-email-code> in
  // its fallback slot (the event bubbles through the box either way).
  auth.addEventListener('latchkey-signed-in', toAccount);
  // Account recovery (e-mailed code + recovery code) opens a restricted session: the account page
  // then asks for a new passkey, which finishes the recovery.
  auth.addEventListener('latchkey-recovery-started', () => {
    sessionStorage.setItem('demo:notice', 'recovery');
    location.assign('/account.html');
  });
  // "Try another way" after a failed passkey attempt opens the e-mail code form.
  auth.addEventListener('latchkey-fallback', () => {
    const other = document.getElementById('other-ways');
    other.open = true;
    other.querySelector('latchkey-email-code').shadowRoot?.querySelector('input')?.focus();
  });
  auth.addEventListener('latchkey-signed-up', toAccount);
  // The box explains its own errors; an old "Signed out." above it would only confuse.
  auth.addEventListener('latchkey-error', () => {
    document.getElementById('notice').textContent = '';
  });
  // A recovery support started for this user: the mailed link ends in #support-code=… (the SDK's
  // recoverWithSupportCode). It opens the same restricted session as self-service recovery, and
  // the account page asks for a new passkey.
  // The same for a code an agent read out on the phone, typed into the form under the sign-in box.
  const redeemSupportCode = (code, what) =>
    latchkey.recoverWithSupportCode(code).then(
      () => {
        sessionStorage.setItem('demo:notice', 'support-recovery');
        location.assign('/account.html');
      },
      (error) => {
        document.getElementById('notice').textContent =
          error.code === 'support_code_invalid' ? `This recovery ${what} has expired or was used already: ask support for a new one.` : 'The recovery could not start; try again.';
      },
    );
  const supportCode = new URLSearchParams(location.hash.slice(1)).get('support-code');
  if (supportCode) {
    history.replaceState(null, '', '/');
    redeemSupportCode(supportCode, 'link');
  }
  document.getElementById('support-code-form').addEventListener('submit', (event) => {
    event.preventDefault();
    redeemSupportCode(document.getElementById('support-code').value, 'code');
  });
  if (new URLSearchParams(location.search).has('signed-out')) {
    document.getElementById('notice').textContent = 'Signed out.';
    history.replaceState(null, '', '/');
  }
  // Already signed in? Offer the account page instead of hiding the sign-in box.
  latchkey.getSession().then((current) => {
    if (current) document.getElementById('account-link').hidden = false;
  });
}

if (page === 'account') {
  const main = document.getElementById('main');
  const current = await latchkey.getSession();
  if (!current) {
    location.replace('/');
  } else {
    document.getElementById('who').textContent = current.user.username;
    const notice = sessionStorage.getItem('demo:notice');
    sessionStorage.removeItem('demo:notice');
    if (notice) {
      document.getElementById('notice').textContent =
        notice === 'signed-up'
          ? `Welcome, ${current.user.username}! Your passkey is saved.`
          : notice === 'signed-in-code'
            ? 'Signed in with a code from your e-mail.'
            : notice === 'recovery'
              ? 'Your e-mail and recovery code checked out.'
              : notice === 'support-recovery'
                ? 'Support started the recovery of your account.'
              : notice === 'recovered'
                ? 'Your account is recovered: sign in with the new passkey from now on. Make new recovery codes below.'
                : 'Signed in.';
    }
    if (current.session.scope === 'recovery') {
      main.append(document.getElementById('recovery-account').content.cloneNode(true));
      const append = document.getElementById('append');
      append.strings = {
        appendTitle: 'Finish recovering your account',
        appendText: 'Create a new passkey on this device. Every other session of your account is then signed out.',
      };
      // The new passkey makes the session a full one: show the whole account page.
      append.addEventListener('latchkey-passkey-added', () => {
        sessionStorage.setItem('demo:notice', 'recovered');
        location.reload();
      });
      main.setAttribute('aria-busy', 'false');
    } else {
      main.append(document.getElementById('full-account').content.cloneNode(true));
      main.setAttribute('aria-busy', 'false');
      wireFullAccount();
    }
    document.getElementById('sign-out').addEventListener('click', async () => {
      await latchkey.signOut();
      location.assign('/?signed-out');
    });
  }
}

function wireFullAccount() {
  const passkeys = document.getElementById('passkeys');
  passkeys.addEventListener('latchkey-signed-out', () => location.replace('/'));
  // A passkey made by <latchkey-passkey-append> belongs in the list too.
  document.addEventListener('latchkey-passkey-added', (event) => {
    if (event.target !== passkeys) passkeys.refresh();
  });
}
