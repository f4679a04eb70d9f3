export { createSessionsService, type SessionsService, type DeviceSession, type SessionView, type AuthenticatedSession, type Amr, type SessionScope, type SecondFactor, replacedSessionEvent, assuranceLevel, stepUpAmr } from './sessions.service.ts';
export { sessionRoutes } from './sessions.routes.ts';
export { SessionErrors } from './sessions.errors.ts';
