// Plain JavaScript on purpose: a worker that loads a .ts file starts Node's type-stripping
// compiler in its own isolate, ~12 MB of RSS per verification thread (measured with Node 24).
import { parentPort } from 'node:worker_threads';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';

/** Verification worker: runs the library on one job at a time and posts back the result or the error text. */
parentPort?.on('message', async (/** @type {{ id: number, kind: 'registration' | 'authentication', options: any }} */ message) => {
  try {
    const result =
      message.kind === 'registration' ? await verifyRegistrationResponse(message.options) : await verifyAuthenticationResponse(message.options);
    parentPort?.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
