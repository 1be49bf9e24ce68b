import { describe, expect, it } from 'vitest';
import { clusterLabel, loadConfig } from '../../src/config/index.js';
import { queueName, slotted, useClusterKeys, workKeys } from '../../src/queue/names.js';
import { isClusterUrl, parseClusterUrl, redisUrlProblem } from '../../src/queue/redis-url.js';

describe('REDIS_URL for a Redis Cluster', () => {
  it('reads seeds, credentials and TLS from redis+cluster:// and rediss+cluster://', () => {
    expect(parseClusterUrl('redis+cluster://127.0.0.1:7001,127.0.0.1:7002')).toEqual({
      seeds: [
        { host: '127.0.0.1', port: 7001 },
        { host: '127.0.0.1', port: 7002 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(parseClusterUrl('rediss+cluster://app:p%40ss@[::1]:7001/')).toEqual({
      seeds: [{ host: '::1', port: 7001 }],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(isClusterUrl('redis://127.0.0.1:6379')).toBe(false);
  });

  it.each([
    'redis+cluster://',
    'redis+cluster://host',
    'redis+cluster://h:1,h',
    'redis+cluster://h:70000',
    'redis+cluster://h:1/0',
  ])('refuses %s, saying what a cluster URL is', (url) => {
    expect(redisUrlProblem(url)).toMatch(/^redis\+cluster:\/\/host:port,host:port/);
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(/REDIS_URL="[^"]*" must be redis\+cluster:\/\//);
  });

  it('takes one Redis or a cluster, and refuses other schemes', () => {
    expect(redisUrlProblem('redis://127.0.0.1:6379')).toBeUndefined();
    expect(redisUrlProblem('rediss://u:p@h:6380/2')).toBeUndefined();
    expect(redisUrlProblem('redis+cluster://a:1,b:2')).toBeUndefined();
    expect(redisUrlProblem('http://h:1')).toMatch(/^a URL such as redis:/);
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:1,b:2' }).REDIS_URL).toBe('redis+cluster://a:1,b:2');
  });

  it('derives one cluster label from the seeds, whatever their order or credentials', () => {
    const a = clusterLabel({ FAAS_CLUSTER: 'faas', REDIS_URL: 'redis+cluster://a:1,b:2' });
    expect(clusterLabel({ FAAS_CLUSTER: 'faas', REDIS_URL: 'redis+cluster://u:p@b:2,a:1' })).toBe(a);
    expect(clusterLabel({ FAAS_CLUSTER: 'faas', REDIS_URL: 'redis://a:1' })).not.toBe(a);
  });
});

describe('key names', () => {
  it('keep their single-Redis names, and carry one hash tag per function on a cluster', () => {
    expect(queueName('csv')).toBe('fn.csv');
    expect(workKeys('csv')[0]).toBe('faas:fn.csv:wait');
    expect(slotted('schedules')).toBe('schedules');
    useClusterKeys();
    try {
      expect(queueName('csv')).toBe('{fn.csv}');
      expect(workKeys('csv')).toContain('faas:{fn.csv}:active');
      expect(slotted('schedules')).toBe('{schedules}');
    } finally {
      useClusterKeys(false);
    }
  });
});
