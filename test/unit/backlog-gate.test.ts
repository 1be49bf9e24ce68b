import { describe, expect, it } from 'vitest';
import { BacklogGate } from '../../src/triggers/queue/gate.js';

describe('the backlog gate', () => {
  it('reserves at most the room left, and counts reservations until a reading includes them', async () => {
    let waiting = 0;
    const gate = new BacklogGate(async () => waiting, 10);
    expect(await gate.reserve(4, 1000)).toBe(4);
    expect(await gate.reserve(100, 1000)).toBe(6); // same reading: 4 already taken
    expect(await gate.reserve(1, 1000)).toBe(0);
    waiting = 10; // the reservations became jobs
    expect(await gate.reserve(1, 1e13)).toBe(0);
    waiting = 3;
    expect(await gate.reserve(5, 2e13)).toBe(5);
  });

  it('gives back room for messages that did not come', async () => {
    const gate = new BacklogGate(async () => 0, 5);
    expect(await gate.reserve(5, 1000)).toBe(5);
    gate.release(3);
    expect(await gate.reserve(5, 1000)).toBe(3);
  });

  it('concurrent callers never share the same room', async () => {
    const gate = new BacklogGate(async () => 0, 3);
    const got = await Promise.all(Array.from({ length: 10 }, () => gate.reserve(1)));
    expect(got.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('has no room while the backlog cannot be read', async () => {
    const gate = new BacklogGate(() => Promise.reject(new Error('down')), 100);
    expect(await gate.reserve(10)).toBe(0);
  });
});
