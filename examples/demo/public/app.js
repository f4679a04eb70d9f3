// Latchkey demo page: the browser's WebAuthn API with the Level 3 JSON helpers, nothing else.
// Options from the server go straight into parse*OptionsFromJSON; credential.toJSON() goes
// straight back to the verify endpoints (see /work/shared/api-contract.md).

const API = '/api/v1';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const main = $('main');
const loading = $('loading');
const signedOut = $('signed-out');
const signedIn = $('signed-in');
const form = /** @type {HTMLFormElement} */ ($('auth-form'));
const username = /** @type {HTMLInputElement} */ ($('username'));
const who = $('who');
const list = $('passkeys');
const status = $('status');

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A problem+json answer (RFC 9457) from the server. */
class ProblemError extends Error {
  constructor(status, problem) {
    const text = (problem && (problem.detail || problem.title)) || `The server answered ${status}`;
    super(text.charAt(0).toUpperCase() + text.slice(1));
    this.status = status;
    this.code = problem && problem.code;
  }
}

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  // Bodies are JSON only; a request without a body sends no content type (the server refuses
  // an empty body labelled application/json).
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ProblemError(response.status, data);
  return data;
}

// --- WebAuthn -------------------------------------------------------------------------------

function supportsPasskeys() {
  return typeof window.PublicKeyCredential === 'function' && typeof navigator.credentials?.create === 'function';
}

const fromB64u = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
function toB64u(buffer) {
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const descriptors = (list = []) => list.map((d) => ({ ...d, id: fromB64u(d.id) }));

/** The JSON helpers where the browser has them (all current ones); a small fallback otherwise. */
function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return { ...json, challenge: fromB64u(json.challenge), user: { ...json.user, id: fromB64u(json.user.id) }, excludeCredentials: descriptors(json.excludeCredentials) };
}

function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: fromB64u(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: toB64u(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toB64u(r.attestationObject);
    response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
  } else {
    response.authenticatorData = toB64u(r.authenticatorData);
    response.signature = toB64u(r.signature);
    if (r.userHandle) response.userHandle = toB64u(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toB64u(credential.rawId),
    type: credential.type,
    response,
    ...(credential.authenticatorAttachment ? { authenticatorAttachment: credential.authenticatorAttachment } : {}),
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

/** Registration: options, the authenticator, verify. `body` is {username} to sign up, {} to add a passkey. */
async function register(body) {
  const options = await api('POST', '/passkeys/registration/options', body);
  const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
  return api('POST', '/passkeys/registration/verify', credentialJSON(credential));
}

/** Sign-in: {username} for identifier-first, {} for a discoverable passkey. */
async function authenticate(body) {
  const options = await api('POST', '/passkeys/authentication/options', body);
  const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
  return api('POST', '/passkeys/authentication/verify', credentialJSON(credential));
}

// --- Page -----------------------------------------------------------------------------------

function say(message, kind = 'info') {
  status.textContent = message;
  status.dataset.kind = message ? kind : '';
}

function explain(error) {
  if (error instanceof ProblemError) return error.message;
  if (error instanceof DOMException) {
    switch (error.name) {
      case 'NotAllowedError':
      case 'AbortError':
        return 'Cancelled or timed out — try again';
      case 'InvalidStateError':
        return 'This device already has a passkey for this account';
      case 'SecurityError':
        return 'This page’s address is not allowed to use passkeys for this server';
      case 'NotSupportedError':
        return 'This device cannot make a passkey the server accepts';
    }
    return error.message || error.name;
  }
  if (error instanceof TypeError) return 'Could not reach the server — check your connection and try again';
  return error instanceof Error ? error.message : String(error);
}

function setBusy(busy) {
  main.setAttribute('aria-busy', String(busy));
  for (const button of document.querySelectorAll('button')) button.disabled = busy;
}

/** Runs one user action with the buttons disabled; failures go to the status region. */
async function run(pending, action) {
  setBusy(true);
  say(pending);
  try {
    await action();
  } catch (error) {
    say(explain(error), 'error');
  } finally {
    setBusy(false);
  }
}

function text(tag, content, className) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

function time(iso) {
  const el = document.createElement('time');
  el.dateTime = iso;
  el.textContent = dateFormat.format(new Date(iso));
  return el;
}

function providerIcon(icon) {
  if (!icon || (!icon.light && !icon.dark)) return null;
  const picture = document.createElement('picture');
  if (icon.dark) {
    const source = document.createElement('source');
    source.media = '(prefers-color-scheme: dark)';
    source.srcset = icon.dark;
    picture.append(source);
  }
  const img = document.createElement('img');
  img.src = icon.light || icon.dark;
  img.alt = '';
  img.width = 32;
  img.height = 32;
  picture.append(img);
  return picture;
}

function renderPasskeys(passkeys) {
  list.replaceChildren();
  if (passkeys.length === 0) {
    list.append(text('li', 'No passkeys yet.', 'muted'));
    return;
  }
  for (const passkey of passkeys) {
    const item = document.createElement('li');
    item.className = 'passkey';
    const icon = providerIcon(passkey.providerIcon);
    if (icon) item.append(icon);
    const body = document.createElement('div');
    const heading = document.createElement('p');
    heading.className = 'passkey-name';
    heading.append(text('span', passkey.name));
    const synced = passkey.deviceType === 'multiDevice' && passkey.backedUp;
    heading.append(text('span', synced ? 'Synced' : 'This device only', synced ? 'badge synced' : 'badge'));
    body.append(heading);
    if (passkey.provider && passkey.provider !== passkey.name) body.append(text('p', passkey.provider, 'muted'));
    const dates = document.createElement('dl');
    dates.className = 'dates';
    dates.append(text('dt', 'Created'), document.createElement('dd'));
    dates.lastChild.append(time(passkey.createdAt));
    dates.append(text('dt', 'Last used'), document.createElement('dd'));
    if (passkey.lastUsedAt) dates.lastChild.append(time(passkey.lastUsedAt));
    else dates.lastChild.textContent = 'Never';
    body.append(dates);
    item.append(body);
    list.append(item);
  }
}

function showSignedOut() {
  signedIn.hidden = true;
  signedOut.hidden = false;
  loading.hidden = true;
}

async function showSignedIn(user) {
  const { passkeys } = await api('GET', '/passkeys');
  who.textContent = user.username;
  renderPasskeys(passkeys);
  signedOut.hidden = true;
  signedIn.hidden = false;
  loading.hidden = true;
}

/** GET /session decides which view to show. */
async function refresh() {
  try {
    const { user } = await api('GET', '/session');
    await showSignedIn(user);
  } catch (error) {
    if (error instanceof ProblemError && error.status === 401) showSignedOut();
    else throw error;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const action = event.submitter?.value ?? 'sign-in';
  const name = username.value.trim();
  username.removeAttribute('aria-invalid');
  if (action === 'sign-up') {
    if (!name) {
      username.setAttribute('aria-invalid', 'true');
      username.focus();
      say('Choose a username to sign up', 'error');
      return;
    }
    run('Creating your passkey…', async () => {
      const { user } = await register({ username: name });
      await showSignedIn(user);
      say(`Welcome, ${user.username}! Your passkey is saved.`, 'success');
      $('signed-in-title').focus();
    });
  } else {
    run('Waiting for your passkey…', async () => {
      const { user } = await authenticate(name ? { username: name } : {});
      await showSignedIn(user);
      say('Signed in.', 'success');
      $('signed-in-title').focus();
    });
  }
});

$('add-passkey').addEventListener('click', () => {
  run('Creating another passkey…', async () => {
    try {
      await register({});
    } catch (error) {
      // The session ended meanwhile: show the signed-out view with the reason.
      if (error instanceof ProblemError && error.status === 401) showSignedOut();
      throw error;
    }
    await refresh();
    say('Passkey added.', 'success');
  });
});

$('sign-out').addEventListener('click', () => {
  run('Signing out…', async () => {
    try {
      await api('DELETE', '/session');
    } catch (error) {
      // Already signed out (expired or revoked elsewhere): the signed-out view is right anyway.
      if (!(error instanceof ProblemError && error.status === 401)) throw error;
    }
    username.value = '';
    showSignedOut();
    say('Signed out.', 'success');
    username.focus();
  });
});

if (!supportsPasskeys()) {
  showSignedOut();
  for (const button of document.querySelectorAll('button')) button.disabled = true;
  say('This browser does not support passkeys.', 'error');
  main.setAttribute('aria-busy', 'false');
} else {
  run('', refresh).then(() => {
    if (status.dataset.kind === 'error') showSignedOut();
  });
}
