import { describe, expect, it } from 'vitest';
import { bucketDelivery, type BucketEventMode } from '../../src/triggers/bucket/delivery.js';

const target = 'http://127.0.0.1:8080/minio/events';

describe('bucketDelivery', () => {
  const rows: Array<{
    name: string;
    configured: BucketEventMode;
    targetEndpoint: string | undefined;
    bindHost: string;
    port: number;
    mode: BucketEventMode;
    fallback: boolean;
  }> = [
    {
      name: 'target on our port',
      configured: 'webhook',
      targetEndpoint: target,
      bindHost: '127.0.0.1',
      port: 8080,
      mode: 'webhook',
      fallback: false,
    },
    {
      name: 'bound to every interface',
      configured: 'webhook',
      targetEndpoint: target,
      bindHost: '0.0.0.0',
      port: 8080,
      mode: 'webhook',
      fallback: false,
    },
    {
      name: 'bound to ::',
      configured: 'webhook',
      targetEndpoint: target,
      bindHost: '::',
      port: 8080,
      mode: 'webhook',
      fallback: false,
    },
    {
      name: 'target localhost, bound to ::1',
      configured: 'webhook',
      targetEndpoint: 'http://localhost:8080/minio/events',
      bindHost: '::1',
      port: 8080,
      mode: 'webhook',
      fallback: false,
    },
    {
      name: 'another port',
      configured: 'webhook',
      targetEndpoint: target,
      bindHost: '127.0.0.1',
      port: 18080,
      mode: 'listen',
      fallback: true,
    },
    {
      name: 'bound to a non-loopback address',
      configured: 'webhook',
      targetEndpoint: target,
      bindHost: '10.1.2.3',
      port: 8080,
      mode: 'listen',
      fallback: true,
    },
    {
      name: 'target on a named host we bind',
      configured: 'webhook',
      targetEndpoint: 'http://faas.internal:8080/minio/events',
      bindHost: 'faas.internal',
      port: 8080,
      mode: 'webhook',
      fallback: false,
    },
    {
      name: 'target with no port, https',
      configured: 'webhook',
      targetEndpoint: 'https://127.0.0.1/minio/events',
      bindHost: '127.0.0.1',
      port: 443,
      mode: 'webhook',
      fallback: false,
    },
    {
      name: 'target not a URL',
      configured: 'webhook',
      targetEndpoint: 'not a url',
      bindHost: '127.0.0.1',
      port: 8080,
      mode: 'listen',
      fallback: true,
    },
    {
      name: 'unknown target (MinIO set up by hand)',
      configured: 'webhook',
      targetEndpoint: undefined,
      bindHost: '127.0.0.1',
      port: 18080,
      mode: 'webhook',
      fallback: false,
    },
    {
      name: 'listen mode asked for',
      configured: 'listen',
      targetEndpoint: target,
      bindHost: '127.0.0.1',
      port: 18080,
      mode: 'listen',
      fallback: false,
    },
    {
      name: 'poll mode asked for',
      configured: 'poll',
      targetEndpoint: target,
      bindHost: '127.0.0.1',
      port: 18080,
      mode: 'poll',
      fallback: false,
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const d = bucketDelivery(r);
      expect(d.mode).toBe(r.mode);
      expect(d.fallback !== undefined).toBe(r.fallback);
    });
  }

  it('names the address MinIO posts to and the command that changes it', () => {
    const d = bucketDelivery({
      configured: 'webhook',
      targetEndpoint: target,
      bindHost: '127.0.0.1',
      port: 18080,
    });
    expect(d.fallback).toContain(target);
    expect(d.fallback).toContain('FAAS_PORT=18080 npm run services:up');
  });
});
