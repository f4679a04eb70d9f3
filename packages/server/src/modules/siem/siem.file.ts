import { open, stat, type FileHandle } from 'node:fs/promises';
import type { SiemLine, SiemSink } from './siem.sink.ts';

/** Something with a Node-style `write(chunk, callback)`: process.stdout. */
export interface LineWriter {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
}

/**
 * NDJSON, one OCSF event per line, appended to a file (or written to stdout). Rotation is the
 * operator's (logrotate without `copytruncate`): before each batch the sink checks that the path
 * still names the file it has open, and opens it anew when it was moved or deleted.
 */
export function createNdjsonSink(target: { path: string } | { stdout: LineWriter }): SiemSink {
  let handle: FileHandle | undefined;
  let inode: number | undefined;

  async function fileHandle(path: string): Promise<FileHandle> {
    if (handle) {
      const current = await stat(path).then((s) => s.ino, () => undefined);
      if (current === inode) return handle;
      await handle.close().catch(() => {});
      handle = undefined;
    }
    const opened = await open(path, 'a', 0o640);
    handle = opened;
    inode = (await opened.stat()).ino;
    return opened;
  }

  return {
    name: 'ndjson',
    confirmAfterMs: 0,
    takeBroken: () => false,
    async send(lines: readonly SiemLine[]) {
      const text = lines.map((line) => `${line.json}\n`).join('');
      if ('stdout' in target) {
        await new Promise<void>((resolve, reject) => target.stdout.write(text, (error) => (error ? reject(error) : resolve())));
        return;
      }
      const fh = await fileHandle(target.path);
      try {
        await fh.appendFile(text, 'utf8');
      } catch (error) {
        await fh.close().catch(() => {});
        handle = undefined;
        throw error;
      }
    },
    async close() {
      await handle?.close().catch(() => {});
      handle = undefined;
      return true;
    },
  };
}
