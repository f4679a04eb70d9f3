/**
 * Node flags the Latchkey server runs with (`npm start`, the container, the benchmark).
 *
 * 16 MB semi-spaces: with 4 MB (chosen on 2026-11-22 to keep peak RSS low), a busy server's
 * young generation was collected every ~130 ms, so objects that live across one webhook or
 * SIEM round trip (deliveries, their requests, OCSF lines) were copied and promoted to the old
 * generation, and old-generation marking then slowed everything. Measured on 2026-12-03 with
 * `node bench/cost.ts`, 4 alternating rounds: CPU per login 1.92 → 1.58 ms with events out on,
 * 1.55 → 1.46 ms with them off; peak RSS no higher (the old generation grows less). bench/RESULTS.md.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=16'];
