// The restart schedule after crashes.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CrashTracker, DEFAULT_POLICY, schedule } from '../src/backoff';

describe('crash backoff', () => {
  test('1, 2, 4, 8, 16 seconds, then it gives up', () => {
    assert.deepEqual(schedule(), [1000, 2000, 4000, 8000, 16000]);
    let now = 0;
    const tracker = new CrashTracker(DEFAULT_POLICY, () => now);
    const decisions = [];
    for (let i = 0; i < 6; i++) {
      decisions.push(tracker.recordCrash());
      now += 1000;
    }
    assert.deepEqual(
      decisions.map((d) => (d.action === 'restart' ? d.delayMs : 'give-up')),
      [1000, 2000, 4000, 8000, 16000, 'give-up'],
    );
  });

  test('crashes older than the window no longer count', () => {
    let now = 0;
    const tracker = new CrashTracker(DEFAULT_POLICY, () => now);
    tracker.recordCrash();
    now += 10_000;
    assert.deepEqual(tracker.recordCrash(), { action: 'restart', delayMs: 2000, crashes: 2 });
    now += DEFAULT_POLICY.windowMs + 1;
    assert.deepEqual(tracker.recordCrash(), { action: 'restart', delayMs: 1000, crashes: 1 });
  });

  test('a restart the user asks for starts the count over', () => {
    const tracker = new CrashTracker(DEFAULT_POLICY, () => 0);
    for (let i = 0; i < 6; i++) {
      tracker.recordCrash();
    }
    tracker.reset();
    assert.deepEqual(tracker.recordCrash(), { action: 'restart', delayMs: 1000, crashes: 1 });
  });

  test('the last delay repeats when the window allows more crashes than delays', () => {
    const tracker = new CrashTracker({ delaysMs: [100, 200], windowMs: 1000, maxCrashes: 4 }, () => 0);
    assert.deepEqual([1, 2, 3, 4].map(() => tracker.recordCrash()).map((d) => (d.action === 'restart' ? d.delayMs : 0)), [100, 200, 200, 200]);
  });
});
