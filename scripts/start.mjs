// `npm start`: runs the server on the embedded SQLite default, bringing Node 24 if needed.
// The server runs as compiled JavaScript (scripts/build-server.mjs), built afresh on every start.
import { spawn } from 'node:child_process';
import { buildServer } from './build-server.mjs';
import { ensureDependencies, ensureModernNode } from './ensure-node.mjs';
import { SERVER_NODE_FLAGS } from './server-node-flags.mjs';

ensureModernNode();
ensureDependencies();
const entry = buildServer();
const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, entry, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
