import { describe, expect, it } from 'vitest';
import { ConnectionCap } from '../../src/api/connection-cap.js';

describe('ConnectionCap', () => {
  it('admits up to the cap per source, then refuses; other sources are not affected', () => {
    const cap = new ConnectionCap(3);
    const a = Array.from({ length: 5 }, () => cap.admit('10.0.0.1'));
    expect(a.map((r) => r.admitted)).toEqual([true, true, true, false, false]);
    // One log line per episode: only the first refusal says so.
    expect(a.map((r) => r.first)).toEqual([false, false, false, true, false]);
    expect(cap.admit('10.0.0.2').admitted).toBe(true);
    expect(cap.count('10.0.0.1')).toBe(3);
  });

  it('a released connection frees a place, and the next refusal is a first again', () => {
    const cap = new ConnectionCap(1);
    expect(cap.admit('s').admitted).toBe(true);
    expect(cap.admit('s')).toEqual({ admitted: false, first: true });
    cap.release('s');
    expect(cap.admit('s').admitted).toBe(true);
    expect(cap.admit('s')).toEqual({ admitted: false, first: true });
  });

  it('forgets a source once its last connection closes (memory stays bounded)', () => {
    const cap = new ConnectionCap(2);
    for (let i = 0; i < 1000; i++) cap.admit(`a${i}`);
    expect(cap.sources).toBe(1000);
    for (let i = 0; i < 1000; i++) cap.release(`a${i}`);
    expect(cap.sources).toBe(0);
  });

  it('refused connections take no place; releasing an unknown source is harmless', () => {
    const cap = new ConnectionCap(1);
    cap.admit('s');
    cap.admit('s');
    cap.admit('s');
    cap.release('s');
    expect(cap.count('s')).toBe(0);
    cap.release('s');
    cap.release('never');
    expect(cap.count('s')).toBe(0);
    expect(cap.sources).toBe(0);
  });
});
