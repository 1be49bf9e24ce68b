import { describe, expect, it } from 'vitest';
import { s3EventRecord, decodeS3Key, encodeS3Key } from '../../src/queue/s3-event.js';
import { recordFromListing } from '../../src/triggers/bucket/catchup.js';
import { bucketDedupKey, normalizeRecord } from '../../src/triggers/bucket/record.js';

/** What real handlers do with an S3 event's key. */
const handlerDecode = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));

describe('encodeS3Key', () => {
  it.each([
    ['plain/key.csv', 'plain/key.csv'],
    ['a b.csv', 'a+b.csv'],
    ['a+b.csv', 'a%2Bb.csv'],
    ['100%.csv', '100%25.csv'],
    ['q?a&b=c.txt', 'q%3Fa%26b%3Dc.txt'],
    ['deep/er/path/', 'deep/er/path/'],
    ['données/été ☃.csv', 'donn%C3%A9es/%C3%A9t%C3%A9+%E2%98%83.csv'],
    ['emoji 😀', 'emoji+%F0%9F%98%80'],
    ["(1) copy!~'", '%281%29+copy%21%7E%27'],
    ['keep-_.*', 'keep-_.*'],
    ['colon:semi;comma,', 'colon%3Asemi%3Bcomma%2C'],
    ['tab\there#hash', 'tab%09here%23hash'],
  ])('%j → %j, and back with what handlers do', (key, encoded) => {
    expect(encodeS3Key(key)).toBe(encoded);
    expect(handlerDecode(encoded)).toBe(key);
    expect(decodeS3Key(encoded)).toBe(key);
  });

  it('replaces an unpaired surrogate instead of throwing', () => {
    expect(encodeS3Key('a\uD800b')).toBe('a%EF%BF%BDb');
  });
});

/** A MinIO webhook-target record for `key` (MinIO's own encoding: Go's QueryEscape, `/` too). */
function minioRecord(key: string) {
  return {
    eventVersion: '2.0',
    eventSource: 'minio:s3',
    awsRegion: '',
    eventTime: '2026-11-27T14:36:48.025Z',
    eventName: 's3:ObjectCreated:Put',
    userIdentity: { principalId: 'minioadmin' },
    requestParameters: { principalId: 'minioadmin', region: '', sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-id-2': 'dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8',
      'x-amz-request-id': '18EBEDAE0082D93A',
      'x-minio-deployment-id': 'b7e3',
      'x-minio-origin-endpoint': 'http://127.0.0.1:9000',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'Config',
      bucket: { name: 'uploads', ownerIdentity: { principalId: 'minioadmin' }, arn: 'arn:aws:s3:::uploads' },
      object: {
        key: encodeURIComponent(key).replace(/%20/g, '+'),
        size: 42,
        eTag: '9dd4e461268c8034f5c8564e155c67a6',
        contentType: 'text/csv',
        userMetadata: { 'content-type': 'text/csv' },
        sequencer: '18EBEDAE0082D93A',
      },
    },
    source: { host: '127.0.0.1', port: '', userAgent: 'MinIO' },
  };
}

describe('s3EventRecord', () => {
  const key = 'csv/sales 2026+q1 100%.csv';

  it('has every field AWS sends, with the key encoded as S3 encodes it', () => {
    const record = s3EventRecord(normalizeRecord(minioRecord(key), 'url'), 'eu-west-1');
    expect(record).toEqual({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: '2026-11-27T14:36:48.025Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'minioadmin' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: {
        'x-amz-request-id': '18EBEDAE0082D93A',
        'x-amz-id-2': 'dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'Config',
        bucket: {
          name: 'uploads',
          ownerIdentity: { principalId: 'minioadmin' },
          arn: 'arn:aws:s3:::uploads',
        },
        object: {
          key: 'csv/sales+2026%2Bq1+100%25.csv',
          size: 42,
          eTag: '9dd4e461268c8034f5c8564e155c67a6',
          sequencer: '18EBEDAE0082D93A',
        },
      },
    });
    expect(handlerDecode(record.s3.object.key)).toBe(key);
  });

  it('gives the same shape and key for the webhook target, the listen API and a catch-up listing', () => {
    const target = normalizeRecord(minioRecord(key), 'url');
    const listenRaw = minioRecord(key);
    listenRaw.s3.object.key = key; // the listen API sends keys as uploaded
    const listen = normalizeRecord(listenRaw, 'none');
    const listing = recordFromListing('uploads', {
      key,
      size: 42,
      etag: '"9dd4e461268c8034f5c8564e155c67a6"',
      lastModified: '2026-11-27T14:36:48.025Z',
    });
    const shapes = [target, listen, listing].map((r) => s3EventRecord(r, 'us-east-1'));
    const fields = (o: unknown): unknown =>
      typeof o === 'object' && o !== null
        ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fields(v)]))
        : typeof o;
    expect(fields(shapes[1])).toEqual(fields(shapes[0]));
    expect(fields(shapes[2])).toEqual(fields(shapes[0]));
    for (const s of shapes) expect(s.s3.object.key).toBe('csv/sales+2026%2Bq1+100%25.csv');
    // The platform routes and deduplicates on the decoded key: one job id for all three.
    expect(new Set([target, listen, listing].map(bucketDedupKey)).size).toBe(1);
    expect(target.s3.object.key).toBe(key);
  });

  it('leaves out size and eTag when the event has none (deletions) and adds versionId when known', () => {
    const raw = minioRecord('gone.txt');
    raw.eventName = 's3:ObjectRemoved:Delete';
    const object = raw.s3.object as Record<string, unknown>;
    delete object.size;
    delete object.eTag;
    object.versionId = 'v1';
    const record = s3EventRecord(normalizeRecord(raw, 'url'), 'us-east-1');
    expect(record.s3.object).toEqual({ key: 'gone.txt', versionId: 'v1', sequencer: '18EBEDAE0082D93A' });
  });

  it('keeps a record whose optional fields have unexpected types, dropping those fields', () => {
    const raw = minioRecord('a.txt') as Record<string, unknown>;
    raw.userIdentity = 'someone';
    raw.responseElements = 7;
    const record = s3EventRecord(normalizeRecord(raw, 'url'), 'us-east-1');
    expect(record.userIdentity).toEqual({ principalId: '' });
    expect(record.responseElements['x-amz-request-id']).toBe('18EBEDAE0082D93A');
  });
});
