import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, tokenProblem } from './problem.ts';
import type { LatchkeyIdentity, Verifier } from './verifier.ts';

declare global {
  namespace Express {
    interface Request {
      /** Set by `latchkeyExpress` once the access token verified. */
      latchkey?: LatchkeyIdentity;
    }
  }
}

/** The request shape the middleware needs: any Express (or plain node:http) request. */
type Request = IncomingMessage & { latchkey?: LatchkeyIdentity };

export interface LatchkeyExpressOptions {
  verifier: Verifier;
}

/**
 * Express middleware: verifies the access token of `Authorization: Bearer <token>` and puts the
 * identity on `req.latchkey`; otherwise answers 401 application/problem+json with the
 * `LatchkeyTokenError` code (`missing_token`, `expired`, …), or 503 `jwks_unavailable` when the
 * keys could not be fetched.
 *
 * @example
 * import express from 'express';
 * import { createVerifier } from '@latchkey/node';
 * import { latchkeyExpress } from '@latchkey/node/express';
 * const app = express();
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'shop-api' });
 * app.get('/api/orders', latchkeyExpress({ verifier }), (req, res) => res.json({ user: req.latchkey?.sub }));
 */
export function latchkeyExpress(options: LatchkeyExpressOptions): (req: Request, res: ServerResponse, next: (error?: unknown) => void) => void {
  const { verifier } = options;
  return (req, res, next) => {
    Promise.resolve()
      .then(() => verifier.verifyAccessToken(bearerToken(req.headers.authorization)))
      .then(
        (identity) => {
          req.latchkey = identity;
          next();
        },
        (error: unknown) => {
          let problem: ReturnType<typeof tokenProblem>;
          try {
            problem = tokenProblem(error);
          } catch (unexpected) {
            next(unexpected);
            return;
          }
          res.writeHead(problem.status, problem.headers).end(JSON.stringify(problem.body));
        },
      );
  };
}
