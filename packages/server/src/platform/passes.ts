/**
 * One background pass at a time (the audit sealer, the analytics rollup), for a timer and for
 * callers that need "everything up to now" done. A call while a pass runs gets the pass that starts
 * after it, not the running one: that one may have read its rows before the caller's own writes
 * committed. Every caller during one pass shares that next pass, so calls never pile up.
 */
export interface Passes {
  /** A pass that starts now, or right after the one running; resolves with what it did. */
  run(): Promise<number>;
  /** Resolves once no pass runs or waits (their errors are the callers' of `run`). */
  idle(): Promise<void>;
}

export function serialPasses(pass: () => Promise<number>): Passes {
  let running: Promise<number> | undefined;
  let next: Promise<number> | undefined;

  function run(): Promise<number> {
    if (!running) {
      running = pass().finally(() => (running = undefined));
      return running;
    }
    next ??= running
      .catch(() => 0)
      .then(() => {
        next = undefined;
        return run();
      });
    return next;
  }

  return {
    run,
    async idle() {
      while (running || next) await (next ?? running)?.catch(() => 0);
    },
  };
}
