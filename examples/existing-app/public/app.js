// The passkey sign-in on the login page: <latchkey-auth> signs in to Latchkey; then this asks
// Latchkey for a login result signed for this app's audience, ends the Latchkey session (this app
// keeps its own), and hands the login result to this app's backend, which verifies it once.
const { latchkey, audience } = document.body.dataset;
const status = document.getElementById('passkey-status');

document.addEventListener('latchkey-signed-in', async () => {
  try {
    const issued = await fetch(`${latchkey}/api/v1/session/login-result`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ audience }),
    });
    if (!issued.ok) throw new Error(`Latchkey answered ${issued.status}`);
    const { loginResult } = await issued.json();
    await fetch(`${latchkey}/api/v1/session`, { method: 'DELETE', credentials: 'include' }).catch(() => {});
    const answer = await fetch('/login/passkey', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loginResult }),
    });
    if (!answer.ok) throw new Error(`This app answered ${answer.status}`);
    location.assign('/account');
  } catch (error) {
    status.textContent = `Passkey sign-in failed: ${error.message}`;
  }
});
