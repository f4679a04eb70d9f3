import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installLastResortHandlers } from './last-resort.ts';

function recordingLog() {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    error: (_object: object, message: string) => lines.push({ level: 'error', message }),
    fatal: (_object: object, message: string) => lines.push({ level: 'fatal', message }),
  };
}

test('a stray rejection is logged and the process keeps serving (SEC-54)', () => {
  const log = recordingLog();
  const exits: number[] = [];
  const handlers = installLastResortHandlers(log, (code) => exits.push(code));
  try {
    assert.ok(process.listeners('unhandledRejection').includes(handlers.onUnhandledRejection));
    handlers.onUnhandledRejection(new Error('nobody catches this'));
    assert.deepEqual(log.lines.map((l) => l.level), ['error']);
    assert.deepEqual(exits, []);
  } finally {
    handlers.uninstall();
  }
});

test('an uncaught exception is logged as fatal and ends the process with status 1, not hidden', () => {
  const log = recordingLog();
  const exits: number[] = [];
  const handlers = installLastResortHandlers(log, (code) => exits.push(code));
  try {
    assert.ok(process.listeners('uncaughtException').includes(handlers.onUncaughtException));
    handlers.onUncaughtException(new Error('emitter without a listener'));
    assert.deepEqual(log.lines.map((l) => l.level), ['fatal']);
    assert.deepEqual(exits, [1]);
  } finally {
    handlers.uninstall();
  }
});
