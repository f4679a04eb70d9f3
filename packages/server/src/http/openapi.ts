/**
 * OpenAPI conventions shared by the route schemas (README "Conventions"): every operation has an
 * explicit, stable camelCase `operationId` (verb first: `createRegistrationOptions`, `getSession`)
 * and an explicit `security`, one of these. The schemes are declared in app.ts.
 */

/** No session needed (sign-in, sign-up starts, well-known documents, health). */
export const PUBLIC_ROUTE: { [scheme: string]: string[] }[] = [];
/** A session, by cookie or by bearer token. */
export const SIGNED_IN: { [scheme: string]: string[] }[] = [{ cookie: [] }, { bearer: [] }];
/** Works signed out, and does something else (or more) with a session. */
export const OPTIONAL_SESSION: { [scheme: string]: string[] }[] = [{}, { cookie: [] }, { bearer: [] }];
