// Prints the README section "What each failure means" (generated from explanations.ts):
//   node packages/server/src/modules/support/explanations-docs.ts
import { explanationsMarkdown } from './explanations.ts';

process.stdout.write(`${explanationsMarkdown()}\n`);
