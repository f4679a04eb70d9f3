import type { Options } from '@node-rs/argon2';

// Loaded on first use: passwords are off by default, and the module is ~3 MB of RSS.
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const loadArgon2 = () => (argon2 ??= import('@node-rs/argon2'));

/** Algorithm.Argon2id (a const enum, which type stripping cannot read). */
const ARGON2ID = 2 as Options['algorithm'];

/**
 * argon2id with OWASP's minimum (19 MiB, t=2, p=1), an optional pepper as the argon2 secret, and
 * at most `concurrency` computations at once (SEC-43): others wait in line, so a burst of sign-ins
 * cannot take all memory and CPU. `verifyOrDummy` spends the same work for an unknown user.
 */
export function createPasswordHasher(options: { concurrency: number; pepper?: string | undefined }) {
  const secret = options.pepper ? new TextEncoder().encode(options.pepper) : undefined;
  const params = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1, ...(secret ? { secret } : {}) };
  let running = 0;
  const waiting: (() => void)[] = [];

  async function bounded<T>(work: () => Promise<T>): Promise<T> {
    if (running >= options.concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  let dummy: Promise<string> | undefined;
  return {
    hash: (password: string) => bounded(async () => (await loadArgon2()).hash(password, params)),
    /** Verifies against `stored`, or against a dummy hash when there is none (same cost, always false). */
    async verifyOrDummy(stored: string | undefined, password: string): Promise<boolean> {
      const { hash, verify } = await loadArgon2();
      dummy ??= hash('latchkey-dummy-password', params);
      const target = stored ?? (await dummy);
      const ok = await bounded(() => verify(target, password, secret ? { secret } : undefined).catch(() => false));
      return stored !== undefined && ok;
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
