import { randomBytes, randomUUID } from 'node:crypto';

/** CSPRNG access, injected so tests can see what was generated. */
export interface Random {
  bytes(length: number): Uint8Array;
  uuid(): string;
}

export const cryptoRandom: Random = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
  uuid: () => randomUUID(),
};
