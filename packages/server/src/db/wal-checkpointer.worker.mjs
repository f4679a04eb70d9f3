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
 * Bounding the WAL file (node-sqlite-database.ts says why PASSIVE alone does not):
 * - the file's size is looked at every intervalMs / 4 (a stat, next to nothing); past
 *   `walLimitBytes` this thread copies what it can at once and asks the serving connection to copy
 *   the rest between two of its transactions, which lets SQLite start the log over (and
 *   journal_size_limit cut the file back);
 * - when nothing was written since the last PASSIVE and frames remain, a TRUNCATE checkpoint: an
 *   idle database leaves no WAL behind. (Only when idle: under load it would have to win the write
 *   lock from the event loop.)
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

// The size is looked at four times per interval, so a burst overshoots the limit by what about
// 50 ms of commits write, not 200 ms.
const SIZE_CHECKS_PER_INTERVAL = 4;
let tick = 0;
let awaitingServer = false;

const timer = setInterval(() => {
  try {
    tick = (tick + 1) % SIZE_CHECKS_PER_INTERVAL;
    // While the serving connection finishes a checkpoint, this one stays out of its way.
    if (awaitingServer) return;
    const over = walSize() > walLimitBytes;
    if (!over && tick !== 0) return;
    const result = /** @type {{ busy: number, log: number, checkpointed: number }} */ (passive.get());
    if (over) {
      awaitingServer = true;
      parentPort?.postMessage({ walOverLimit: true });
      lastFrames = -1;
      return;
    }
    const idle = result.log > 0 && result.log === lastFrames;
    lastFrames = result.log;
    if (idle && /** @type {{ busy: number }} */ (truncate.get()).busy === 0) lastFrames = 0;
  } catch (error) {
    // A busy database is normal under load: the next tick tries again.
    const message = error instanceof Error ? error.message : String(error);
    if (!/busy|locked/i.test(message)) parentPort?.postMessage({ error: message });
  }
}, intervalMs / SIZE_CHECKS_PER_INTERVAL);

parentPort?.on('message', (message) => {
  if (message === 'checkpointed') awaitingServer = false;
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
