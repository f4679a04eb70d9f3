export const SERVER_DIST_ENTRY: string;
/** Compiles packages/server to packages/server/dist; returns the entry point to run. */
export function buildServer(): string;
