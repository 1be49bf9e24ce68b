import { describe, expect, it } from 'vitest';
import type { BucketTrigger } from '../../src/manifest/types.js';
import { reconnectDelay } from '../../src/triggers/bucket/backoff.js';
import { listenPlan } from '../../src/triggers/bucket/plan.js';
import {
  bucketDedupKey,
  InvalidRecordError,
  normalizeRecord,
  sequencerFromMs,
  sequencerMs,
} from '../../src/triggers/bucket/record.js';
import { matchesBucketTrigger, routeBucketRecord } from '../../src/triggers/route.js';
import { fnSpec } from '../helpers/spec.js';

function trigger(over: Partial<BucketTrigger> = {}): BucketTrigger {
  return {
    type: 'bucket',
    bucket: 'uploads',
    events: ['s3:ObjectCreated:*'],
    prefix: '',
    suffix: '',
    ...over,
  };
}

function rawRecord(key: string, eventName = 's3:ObjectCreated:Put', bucket = 'uploads') {
  return {
    eventVersion: '2.0',
    eventSource: 'minio:s3',
    awsRegion: '',
    eventTime: '2026-01-01T00:00:00.000Z',
    eventName,
    userIdentity: { principalId: 'minioadmin' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'Config',
      bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: { key, size: 3, eTag: '9dd4e461268c8034f5c8564e155c67a6', sequencer: '18EBEC229D053623' },
    },
  };
}

describe('matchesBucketTrigger', () => {
  const csv = trigger({ prefix: 'csv/', suffix: '.csv' });
  // [what, trigger, bucket, key (decoded), event, expected]
  const rows: Array<[string, BucketTrigger, string, string, string, boolean]> = [
    ['wildcard matches Put', trigger(), 'uploads', 'a.txt', 's3:ObjectCreated:Put', true],
    [
      'wildcard matches CompleteMultipartUpload',
      trigger(),
      'uploads',
      'a',
      's3:ObjectCreated:CompleteMultipartUpload',
      true,
    ],
    ['wildcard matches the name without s3:', trigger(), 'uploads', 'a', 'ObjectCreated:Copy', true],
    ['created wildcard ignores removed', trigger(), 'uploads', 'a', 's3:ObjectRemoved:Delete', false],
    [
      'removed wildcard matches removed',
      trigger({ events: ['s3:ObjectRemoved:*'] }),
      'uploads',
      'a',
      's3:ObjectRemoved:Delete',
      true,
    ],
    [
      'removed wildcard ignores created',
      trigger({ events: ['s3:ObjectRemoved:*'] }),
      'uploads',
      'a',
      's3:ObjectCreated:Put',
      false,
    ],
    [
      'exact event matches itself',
      trigger({ events: ['s3:ObjectCreated:Put'] }),
      'uploads',
      'a',
      's3:ObjectCreated:Put',
      true,
    ],
    [
      'exact event ignores a sibling',
      trigger({ events: ['s3:ObjectCreated:Put'] }),
      'uploads',
      'a',
      's3:ObjectCreated:Copy',
      false,
    ],
    [
      'exact event is not a prefix match',
      trigger({ events: ['s3:ObjectCreated:Put'] }),
      'uploads',
      'a',
      's3:ObjectCreated:PutRetention',
      false,
    ],
    [
      'any of several events',
      trigger({ events: ['s3:ObjectRemoved:*', 's3:ObjectCreated:Copy'] }),
      'uploads',
      'a',
      's3:ObjectCreated:Copy',
      true,
    ],
    ['prefix matches', trigger({ prefix: 'csv/' }), 'uploads', 'csv/a.txt', 's3:ObjectCreated:Put', true],
    [
      'prefix is not a substring match',
      trigger({ prefix: 'csv/' }),
      'uploads',
      'old/csv/a.txt',
      's3:ObjectCreated:Put',
      false,
    ],
    ['suffix matches', trigger({ suffix: '.csv' }), 'uploads', 'deep/x.csv', 's3:ObjectCreated:Put', true],
    [
      'suffix is case-sensitive',
      trigger({ suffix: '.csv' }),
      'uploads',
      'x.CSV',
      's3:ObjectCreated:Put',
      false,
    ],
    ['prefix and suffix both hold', csv, 'uploads', 'csv/a/b/c.csv', 's3:ObjectCreated:Put', true],
    ['prefix holds, suffix not', csv, 'uploads', 'csv/a.txt', 's3:ObjectCreated:Put', false],
    ['suffix holds, prefix not', csv, 'uploads', 'tsv/a.csv', 's3:ObjectCreated:Put', false],
    [
      'unicode key',
      trigger({ prefix: 'données/', suffix: '☃.csv' }),
      'uploads',
      'données/été ☃.csv',
      's3:ObjectCreated:Put',
      true,
    ],
    [
      "decoded key with '+' and '%'",
      trigger({ prefix: 'a+b/', suffix: '%.csv' }),
      'uploads',
      'a+b/100 %.csv',
      's3:ObjectCreated:Put',
      true,
    ],
    [
      'encoded form of the key does not match',
      trigger({ prefix: 'a b/' }),
      'uploads',
      'a+b/x',
      's3:ObjectCreated:Put',
      false,
    ],
    ['other bucket', csv, 'downloads', 'csv/a.csv', 's3:ObjectCreated:Put', false],
    ['empty prefix and suffix match every key', trigger(), 'uploads', '', 's3:ObjectCreated:Put', true],
    ['no events match nothing', trigger({ events: [] }), 'uploads', 'a', 's3:ObjectCreated:Put', false],
  ];
  it.each(rows)('%s', (_what, t, bucket, key, event, expected) => {
    expect(matchesBucketTrigger(t, bucket, key, event)).toBe(expected);
  });
});

describe('routeBucketRecord', () => {
  const functions = [
    fnSpec('csv', { triggers: [trigger({ prefix: 'csv/', suffix: '.csv' })] }),
    fnSpec('images', { triggers: [trigger({ prefix: 'img/' })] }),
    fnSpec('audit', {
      triggers: [
        trigger({ events: ['s3:ObjectCreated:*'] }),
        trigger({ events: ['s3:ObjectCreated:Put', 's3:ObjectRemoved:*'] }),
        { type: 'webhook', path: '/hooks/audit', methods: ['POST'], mode: 'async', payload: '2.0' },
      ],
    }),
    fnSpec('elsewhere', { triggers: [trigger({ bucket: 'other' })] }),
  ];
  const rows: Array<[string, string, string, string, string[]]> = [
    ['two functions on one key', 'csv/a b.csv', 's3:ObjectCreated:Put', 'uploads', ['csv', 'audit']],
    ['one function, two matching triggers, once', 'x', 's3:ObjectCreated:Put', 'uploads', ['audit']],
    ['prefixes keep functions apart', 'img/cat.png', 's3:ObjectCreated:Put', 'uploads', ['images', 'audit']],
    ['removed events only where asked', 'csv/a.csv', 's3:ObjectRemoved:Delete', 'uploads', ['audit']],
    ['other bucket', 'csv/a.csv', 's3:ObjectCreated:Put', 'other', ['elsewhere']],
    ['no bucket matches', 'csv/a.csv', 's3:ObjectCreated:Put', 'nobody', []],
  ];
  it.each(rows)('%s', (_what, key, event, bucket, expected) => {
    const record = normalizeRecord(rawRecord(key, event, bucket), 'none');
    expect(routeBucketRecord(record, functions)).toEqual(expected);
  });
});

describe('normalizeRecord', () => {
  it.each([
    ['space as +', 'a+b.csv', 'a b.csv'],
    ['literal + as %2B', 'a%2Bb.csv', 'a+b.csv'],
    ['literal %', '100%25.csv', '100%.csv'],
    ['literal %20', 'lit%2520eral', 'lit%20eral'],
    ['unicode and nesting', 'donn%C3%A9es%2F%C3%A9t%C3%A9+%E2%98%83.csv', 'données/été ☃.csv'],
  ])('decodes a URL-encoded key: %s', (_what, encoded, key) => {
    expect(normalizeRecord(rawRecord(encoded)).s3.object.key).toBe(key);
  });

  it('keeps a listen-API key as uploaded', () => {
    for (const key of ['a+b.csv', '100%.csv', 'lit%20eral', 'données/été ☃.csv'])
      expect(normalizeRecord(rawRecord(key), 'none').s3.object.key).toBe(key);
  });

  it('drops the s3: prefix of the event name and keeps the rest of the record', () => {
    const r = normalizeRecord(rawRecord('a'), 'none');
    expect(r.eventName).toBe('ObjectCreated:Put');
    expect(r).toMatchObject({ userIdentity: { principalId: 'minioadmin' }, s3: { object: { size: 3 } } });
  });

  it('refuses what is not a record, or a key that is not URL-encoded', () => {
    expect(() => normalizeRecord({ eventName: 'x' })).toThrow(InvalidRecordError);
    expect(() => normalizeRecord(rawRecord('100%.csv'))).toThrow(/not URL-encoded/);
  });
});

describe('bucketDedupKey', () => {
  it('is the same for the same notification, from either key encoding', () => {
    const a = normalizeRecord(rawRecord('a b+c.csv'), 'none');
    expect(bucketDedupKey(a)).toBe(bucketDedupKey(normalizeRecord(rawRecord('a b+c.csv'), 'none')));
    expect(bucketDedupKey(a)).toBe(bucketDedupKey(normalizeRecord(rawRecord('a+b%2Bc.csv'))));
  });

  it('differs by sequencer, key, bucket, and prefers the version to the eTag', () => {
    const base = rawRecord('k');
    const other = (f: (r: ReturnType<typeof rawRecord>) => void) => {
      const r = rawRecord('k');
      f(r);
      return bucketDedupKey(normalizeRecord(r, 'none'));
    };
    const k = bucketDedupKey(normalizeRecord(base, 'none'));
    // One millisecond later: another upload of the same bytes.
    expect(other((r) => (r.s3.object.sequencer = '18EBEC229D147863'))).not.toBe(k);
    // The same millisecond (a listing knows no finer time): the same event.
    expect(other((r) => (r.s3.object.sequencer = '18EBEC229D053624'))).toBe(k);
    expect(other((r) => (r.s3.object.key = 'k2'))).not.toBe(k);
    expect(other((r) => (r.s3.bucket.name = 'b2'))).not.toBe(k);
    expect(other((r) => Object.assign(r.s3.object, { versionId: 'v1' }))).toContain('"v1"');
  });
});

describe('sequencerMs', () => {
  it.each([
    ['18EBEDAE0082D93A', Date.parse('2026-11-27T14:36:48.025Z')],
    [sequencerFromMs(Date.parse('2030-01-02T03:04:05.678Z')), Date.parse('2030-01-02T03:04:05.678Z')],
    ['0055B8697E4F5AB3AD', undefined],
    ['00000000000000FF', undefined],
    ['not-hex', undefined],
    [undefined, undefined],
  ])('%s → %s', (seq, ms) => {
    expect(sequencerMs(seq)).toBe(ms);
  });
});

describe('listenPlan', () => {
  it('filters on the server when one trigger uses a bucket, in code when several do', () => {
    const plan = listenPlan([
      fnSpec('a', {
        triggers: [trigger({ prefix: 'csv/', suffix: '.csv' }), trigger({ bucket: 'logs', prefix: 'x/' })],
      }),
      fnSpec('b', { triggers: [trigger({ bucket: 'logs', events: ['s3:ObjectRemoved:*'] })] }),
    ]);
    expect(plan.get('uploads')).toEqual({ prefix: 'csv/', suffix: '.csv', events: ['s3:ObjectCreated:*'] });
    expect(plan.get('logs')).toEqual({
      prefix: '',
      suffix: '',
      events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
    });
    expect([...plan.keys()]).toEqual(['uploads', 'logs']);
  });
});

describe('backoffDelay', () => {
  const opts = { initialMs: 200, maxMs: 10_000 };
  it.each([
    [1, 0, 100],
    [1, 1, 200],
    [3, 0.5, 600],
    [7, 1, 10_000],
    [50, 0, 5_000],
  ])('attempt %i with random %d waits %i ms', (attempt, random, ms) => {
    expect(reconnectDelay(attempt, opts, random)).toBe(ms);
  });
});
