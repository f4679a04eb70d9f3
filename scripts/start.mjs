// `npm start`: runs the server on the embedded SQLite default, bringing Node 24 if needed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, ensureDependencies, ensureModernNode } from './ensure-node.mjs';
import { SERVER_NODE_FLAGS } from './server-node-flags.mjs';

ensureModernNode();
ensureDependencies();
const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, join(ROOT, 'packages/server/src/main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
