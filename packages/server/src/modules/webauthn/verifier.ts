import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type {
  VerifiedAuthenticationResponse,
  VerifiedRegistrationResponse,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';

export type VerifyRegistrationOptions = Parameters<typeof verifyRegistrationResponse>[0] & { expectedChallenge: string };
export type VerifyAuthenticationOptions = Parameters<typeof verifyAuthenticationResponse>[0] & { expectedChallenge: string };

/**
 * Runs @simplewebauthn/server's verification. The library does every signature and attestation
 * check; where it runs is our choice: on the event loop, or on worker threads so the CPU-heavy
 * part of a ceremony does not stall every other request.
 */
export interface Verifier {
  verifyRegistration(options: VerifyRegistrationOptions): Promise<VerifiedRegistrationResponse>;
  verifyAuthentication(options: VerifyAuthenticationOptions): Promise<VerifiedAuthenticationResponse>;
  close(): Promise<void>;
}

// Loaded on first use: with verification on worker threads, the event loop's thread never needs
// the library (~10 MB of RSS).
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
const loadLibrary = () => (library ??= import('@simplewebauthn/server'));

export const inProcessVerifier: Verifier = {
  verifyRegistration: async (options) => (await loadLibrary()).verifyRegistrationResponse(options),
  verifyAuthentication: async (options) => (await loadLibrary()).verifyAuthenticationResponse(options),
  close: async () => {},
};

/** -1 = one worker per core beyond the one the event loop uses; 0 = no workers. */
export function createVerifier(workers: number): Verifier {
  const count = workers === -1 ? Math.max(0, availableParallelism() - 1) : workers;
  return count === 0 ? inProcessVerifier : createWorkerPoolVerifier(count);
}

type Job = { resolve: (value: never) => void; reject: (error: Error) => void };
interface PoolWorker {
  worker: Worker;
  pending: Map<number, Job>;
}

function createWorkerPoolVerifier(size: number): Verifier {
  const url = new URL('./verify.worker.mjs', import.meta.url);
  let nextId = 0;
  let closing = false;
  const pool: PoolWorker[] = [];

  function spawn(index: number): void {
    // A young-generation cap (three 4 MB semi-spaces): these workers only verify signatures, and
    // without it each worker's young generation grows by 60-90 MB under load (bench/RESULTS.md).
    const worker = new Worker(url, { resourceLimits: { maxYoungGenerationSizeMb: 12 } });
    const entry: PoolWorker = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const job = entry.pending.get(message.id);
      if (!job) return;
      entry.pending.delete(message.id);
      if (message.error !== undefined) job.reject(new Error(message.error));
      else job.resolve(message.result as never);
    });
    // A crashed worker fails only its own jobs; a fresh one takes its place.
    worker.on('error', (error) => {
      for (const job of entry.pending.values()) job.reject(error);
      entry.pending.clear();
    });
    worker.on('exit', () => {
      for (const job of entry.pending.values()) job.reject(new Error('verification worker exited'));
      entry.pending.clear();
      if (!closing) spawn(index);
    });
    pool[index] = entry;
  }
  for (let i = 0; i < size; i++) spawn(i);

  function run<T>(kind: 'registration' | 'authentication', options: object): Promise<T> {
    let target = pool[0] as PoolWorker;
    for (const entry of pool) if (entry.pending.size < target.pending.size) target = entry;
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      target.pending.set(id, { resolve: resolve as (value: never) => void, reject });
      target.worker.postMessage({ id, kind, options });
    });
  }

  return {
    verifyRegistration: (options) => run('registration', options),
    verifyAuthentication: (options) => run('authentication', options),
    close: async () => {
      closing = true;
      await Promise.all(pool.map((entry) => entry.worker.terminate()));
    },
  };
}
