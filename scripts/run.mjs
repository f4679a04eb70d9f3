// `node scripts/run.mjs <file.ts> [args]`: runs a TypeScript entry point under Node ≥ 22
// (bringing Node 24 first when the system Node is older), for npm scripts such as `npm run bench`.
import { spawn } from 'node:child_process';
import { ensureDependencies, ensureModernNode } from './ensure-node.mjs';

ensureModernNode();
ensureDependencies();
const [file, ...args] = process.argv.slice(2);
const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
