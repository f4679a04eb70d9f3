export const SERVER_DIST_ENTRY: string;
/** Compiles packages/server to packages/server/dist; returns the entry point to run. */
export function buildServer(): string;
/** Whether packages/server/dist is missing, built from other sources, or current. */
export function buildState(): 'missing' | 'stale' | 'current';
/** SHA-256 over every build input. */
export function sourceHash(): string;
