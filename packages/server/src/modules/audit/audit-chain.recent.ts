import type { SealedEvent } from './audit-chain.service.ts';

/**
 * The events this node sealed lately, consecutive seqs, bounded. Every reader of the chain (SIEM
 * export, webhooks, analytics) reads the events just sealed, and reading them back from the
 * database cost ~10 µs an event each time; a reader that keeps up takes them from here instead.
 * Whatever is not here (sealed by another node, before the start, or pushed out while a reader
 * was behind) is read from the database. The events are shared between readers: read-only.
 */
export function createRecentSealed(limit: number) {
  let events: SealedEvent[] = [];
  return {
    add(sealed: readonly SealedEvent[]) {
      const first = sealed[0];
      if (!first || limit === 0) return;
      // Not consecutive (another node sealed in between): what is kept no longer leads up to these.
      if (events.length > 0 && (events.at(-1) as SealedEvent).seq + 1 !== first.seq) events = [];
      events = events.length === 0 ? [...sealed] : events.concat(sealed);
      if (events.length > limit) events = events.slice(events.length - limit);
    },
    /** Up to `max` events right after `seq`, or undefined when the next one is not here. */
    after(seq: number, max: number): SealedEvent[] | undefined {
      const first = events[0];
      if (!first) return undefined;
      const start = seq + 1 - first.seq;
      if (start < 0 || start >= events.length) return undefined;
      return events.slice(start, start + max);
    },
  };
}
