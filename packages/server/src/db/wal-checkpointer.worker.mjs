// Plain JavaScript on purpose: a worker that loads a .ts file starts Node's type-stripping
// compiler in its own isolate (~12 MB of RSS per thread for nothing this small needs).
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Copies the SQLite write-ahead log back into the database file from a connection of its own, so
 * the copying and the fsyncs (with synchronous=NORMAL, the only ones WAL mode makes) happen on this
 * thread and not inside a commit on the event loop. PASSIVE never waits for or blocks a writer or
 * a reader; frames still in use are copied on a later tick.
 * @type {{ path: string, intervalMs: number }}
 */
const { path, intervalMs } = workerData;
const db = new DatabaseSync(path);
db.exec('PRAGMA busy_timeout = 1000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch (error) {
    // A busy database is normal under load: the next tick tries again.
    const message = error instanceof Error ? error.message : String(error);
    if (!/busy|locked/i.test(message)) parentPort?.postMessage({ error: message });
  }
}, intervalMs);

parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
