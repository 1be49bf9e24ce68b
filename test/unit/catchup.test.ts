import { describe, expect, it } from 'vitest';
import { recordFromListing } from '../../src/triggers/bucket/catchup.js';
import { bucketDedupKey, normalizeRecord } from '../../src/triggers/bucket/record.js';

// A real pair seen on MinIO: the notification of an upload, and the same object in a listing.
const notification = {
  eventVersion: '2.0',
  eventSource: 'minio:s3',
  awsRegion: '',
  eventTime: '2026-11-27T14:36:48.028Z',
  eventName: 's3:ObjectCreated:Put',
  s3: {
    s3SchemaVersion: '1.0',
    bucket: { name: 'uploads' },
    object: {
      key: 'x+y.txt',
      size: 5,
      eTag: '5d41402abc4b2a76b9719d911017c592',
      sequencer: '18EBEDAE0082D93A',
    },
  },
};
const listed = {
  key: 'x y.txt',
  size: 5,
  etag: '"5d41402abc4b2a76b9719d911017c592"',
  lastModified: '2026-11-27T14:36:48.025Z',
};

describe('catch-up records', () => {
  it('gets the same job id as the notification of the same upload', () => {
    expect(bucketDedupKey(recordFromListing('uploads', listed))).toBe(
      bucketDedupKey(normalizeRecord(notification)),
    );
  });

  it('has the shape of a notification record', () => {
    expect(recordFromListing('uploads', listed)).toMatchObject({
      eventName: 'ObjectCreated:Put',
      eventTime: '2026-11-27T14:36:48.025Z',
      s3: {
        bucket: { name: 'uploads' },
        object: { key: 'x y.txt', size: 5, eTag: '5d41402abc4b2a76b9719d911017c592' },
      },
    });
  });

  it.each([
    ['"5d41402abc4b2a76b9719d911017c592"', 'ObjectCreated:Put'],
    ['"5d41402abc4b2a76b9719d911017c592-3"', 'ObjectCreated:CompleteMultipartUpload'],
    ['5D41402ABC4B2A76B9719D911017C592-12', 'ObjectCreated:CompleteMultipartUpload'],
    ['"5d41402abc4b2a76b9719d911017c592-"', 'ObjectCreated:Put'],
    [undefined, 'ObjectCreated:Put'],
  ])('names an object with ETag %s %s, as its notification would', (etag, eventName) => {
    expect(recordFromListing('uploads', { ...listed, etag }).eventName).toBe(eventName);
  });

  it.each([
    ['another modification time', { lastModified: '2026-11-27T14:36:49.025Z' }],
    ['another eTag', { etag: '"00000000000000000000000000000000"' }],
    ['another key', { key: 'x y 2.txt' }],
  ])('differs with %s', (_name, change) => {
    expect(bucketDedupKey(recordFromListing('uploads', { ...listed, ...change }))).not.toBe(
      bucketDedupKey(normalizeRecord(notification)),
    );
  });
});
