/** The part of a pino logger the last-resort handlers use. */
export interface LastResortLog {
  error(object: object, message: string): void;
  fatal(object: object, message: string): void;
}

/**
 * Process-wide last resort (SEC-54). Every error a request can cause is already answered as
 * problem+json by Fastify's error handler, and every event emitter that can fail on its own (the
 * PostgreSQL pool and each of its clients, the verification and checkpoint workers) has an
 * 'error' listener where it is made, so neither a bad request nor a database restart reaches here.
 * - A promise rejected with nobody to catch it is logged and the process keeps serving: it
 *   concerns one piece of work, not the state of the process.
 * - An exception thrown outside any request (an emitter with no listener, a throwing timer) leaves
 *   the process in an unknown state: it is logged as fatal and the process exits with status 1 for
 *   its supervisor to restart, instead of serving on from a state nobody can vouch for.
 */
export function installLastResortHandlers(log: LastResortLog, exit: (code: number) => void = (code) => process.exit(code)): {
  onUnhandledRejection(reason: unknown): void;
  onUncaughtException(error: Error): void;
  uninstall(): void;
} {
  const onUnhandledRejection = (reason: unknown) => log.error({ err: reason }, 'unhandled rejection; still serving');
  const onUncaughtException = (error: Error) => {
    log.fatal({ err: error }, 'uncaught exception; exiting for the supervisor to restart the process');
    exit(1);
  };
  process.on('unhandledRejection', onUnhandledRejection);
  process.on('uncaughtException', onUncaughtException);
  return {
    onUnhandledRejection,
    onUncaughtException,
    uninstall: () => {
      process.off('unhandledRejection', onUnhandledRejection);
      process.off('uncaughtException', onUncaughtException);
    },
  };
}
