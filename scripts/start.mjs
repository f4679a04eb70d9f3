// `npm start` (through bin/latchkey): runs the compiled server, building it first when
// packages/server/dist is missing or older than the sources, then replaces this process with the
// server (process.execve), so that the server is the process npm, systemd or a container
// runtime started, and SIGTERM/SIGINT go straight to it (packages/server/src/main.ts drains and
// exits). Needs Node ≥ 22.15 for execve; bin/latchkey brings Node 24 when the system Node is older.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_DIST_ENTRY, buildServer, buildState } from './build-server.mjs';
import { ROOT, ensureDependencies, ensureModernNode, log } from './ensure-node.mjs';
import { SERVER_NODE_FLAGS } from './server-node-flags.mjs';

ensureModernNode();
ensureDependencies();
const state = buildState();
if (state !== 'current') {
  if (!existsSync(join(ROOT, 'node_modules', 'typescript'))) {
    log(`packages/server/dist is ${state === 'missing' ? 'missing' : 'older than the sources'} and TypeScript is not installed (npm install --omit=dev?): run \`npm install && npm run build\`, then start again.`);
    process.exit(1);
  }
  log(state === 'missing' ? 'No build yet (npm run build):' : 'The sources changed since the last build (npm run build):');
  buildServer();
}
const args = [...SERVER_NODE_FLAGS, SERVER_DIST_ENTRY, ...process.argv.slice(2)];
if (typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...args], process.env);
} else {
  // Node 22.13–22.14: no execve; stay as a parent that forwards the signals and the exit status.
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)));
}
