import { verify } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;
/** 20 bytes = 160 bits, the least SEC-40 allows and what RFC 4226 recommends. */
export const TOTP_SECRET_BYTES = 20;

/**
 * RFC 6238 with SHA-1, 6 digits, 30 s and at most one step of drift either way (SEC-40), on the
 * server's (injected) clock. Returns the time step the code belongs to, or undefined. Replay
 * (a step already used) is the caller's compare-and-set on the stored last step.
 */
export async function totpStep(secret: string, token: string, nowMs: number): Promise<number | undefined> {
  if (!/^\d{6}$/.test(token)) return undefined;
  try {
    const result = await verify({ secret, token, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS, epochTolerance: TOTP_PERIOD_SECONDS });
    return result.valid && 'timeStep' in result ? result.timeStep : undefined;
  } catch {
    return undefined;
  }
}
