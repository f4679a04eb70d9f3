import { parentPort } from 'node:worker_threads';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';

/** Verification worker: runs the library on one job at a time and posts back the result or the error text. */
parentPort?.on('message', async (message: { id: number; kind: 'registration' | 'authentication'; options: never }) => {
  try {
    const result =
      message.kind === 'registration' ? await verifyRegistrationResponse(message.options) : await verifyAuthenticationResponse(message.options);
    parentPort?.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
