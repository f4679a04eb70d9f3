/**
 * Node flags the Latchkey server runs with (`npm start`, the benchmark). V8 otherwise lets the
 * young generation grow to ~56 MB (SQLite) / ~100 MB (PostgreSQL) under load; 4 MB semi-spaces
 * keep peak RSS ~40 MB lower with no measurable CPU cost (bench/RESULTS.md).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];
