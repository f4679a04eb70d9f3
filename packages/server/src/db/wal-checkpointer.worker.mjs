// Plain JavaScript on purpose: a worker that loads a .ts file starts Node's type-stripping
// compiler in its own isolate (~12 MB of RSS per thread for nothing this small needs).
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Copies the SQLite write-ahead log back into the database file from a connection of its own, so
 * the copying and the fsyncs (with synchronous=NORMAL, the only ones WAL mode makes) happen on this
 * thread and not inside a commit on the event loop. PASSIVE never waits for or blocks a writer or
 * a reader; frames still in use are copied on a later tick.
 *
 * PASSIVE alone does not bound the WAL file: SQLite starts writing it from the beginning again only
 * when a writer finds every frame already copied, and under steady load a commit always lands while
 * a checkpoint runs, so the file grows for as long as the load lasts (1.4 GB in the issue 9 fault
 * test) and is never shrunk. So:
 * - PASSIVE every `intervalMs`, as always (the bulk of the copying, blocking nobody);
 * - when the file has grown past `walLimitBytes` (looked at every intervalMs / 4), a PASSIVE and then
 *   a TRUNCATE checkpoint: it waits for the current writer, copies the few frames the PASSIVE one
 *   could not and cuts the file to zero bytes, holding back writers only for that short remainder;
 * - when nothing was written since the last PASSIVE and frames remain, a TRUNCATE too, so an idle
 *   database leaves no WAL behind.
 * @type {{ path: string, intervalMs: number, walLimitBytes: number }}
 */
const { path, intervalMs, walLimitBytes } = workerData;
const db = new DatabaseSync(path);
db.exec('PRAGMA busy_timeout = 1000');
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const truncate = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)');
const walPath = `${path}-wal`;
let lastFrames = -1;

function walSize() {
  try {
    return statSync(walPath).size;
  } catch {
    return 0; // no WAL file (yet, or removed at close)
  }
}

// The size is looked at four times per interval (a stat, next to nothing), so a burst overshoots
// the limit by what 50 ms of commits write, not 200 ms.
const SIZE_CHECKS_PER_INTERVAL = 4;
let tick = 0;

const timer = setInterval(() => {
  try {
    tick = (tick + 1) % SIZE_CHECKS_PER_INTERVAL;
    const over = walSize() > walLimitBytes;
    if (!over && tick !== 0) return;
    const result = /** @type {{ busy: number, log: number, checkpointed: number }} */ (passive.get());
    const idle = result.log > 0 && result.log === lastFrames;
    lastFrames = result.log;
    if (over || idle) {
      const after = /** @type {{ busy: number }} */ (truncate.get());
      if (after.busy === 0) lastFrames = 0;
    }
  } catch (error) {
    // A busy database is normal under load: the next tick tries again.
    const message = error instanceof Error ? error.message : String(error);
    if (!/busy|locked/i.test(message)) parentPort?.postMessage({ error: message });
  }
}, intervalMs / SIZE_CHECKS_PER_INTERVAL);

parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
