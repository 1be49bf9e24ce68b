import { describe, expect, it } from 'vitest';
import { errorFromReply, notificationXml, StoreApi } from '../../src/triggers/bucket/store-api.js';

describe('notificationXml', () => {
  it('writes one queue configuration per target with its events and key filters, escaped', () => {
    const doc = notificationXml([
      {
        arn: 'arn:minio:sqs::FAAS:webhook',
        events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
        prefix: 'a&b/',
        suffix: '.csv',
      },
      { arn: 'arn:minio:sqs::FAASFAST:webhook', events: ['s3:ObjectCreated:Put'] },
    ]);
    expect(doc).toContain(
      '<QueueConfiguration><Queue>arn:minio:sqs::FAAS:webhook</Queue><Event>s3:ObjectCreated:*</Event>' +
        '<Event>s3:ObjectRemoved:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>a&amp;b/</Value>' +
        '</FilterRule><FilterRule><Name>suffix</Name><Value>.csv</Value></FilterRule></S3Key></Filter></QueueConfiguration>',
    );
    expect(doc).toContain(
      '<QueueConfiguration><Queue>arn:minio:sqs::FAASFAST:webhook</Queue><Event>s3:ObjectCreated:Put</Event></QueueConfiguration>',
    );
    expect(doc.match(/<QueueConfiguration>/g)).toHaveLength(2);
  });
});

describe('errorFromReply', () => {
  it("takes the store's code and message", () => {
    const e = errorFromReply(
      400,
      '<?xml version="1.0"?><Error><Code>InvalidArgument</Code><Message>A specified destination ARN does not exist</Message></Error>',
    );
    expect(e.code).toBe('InvalidArgument');
    expect(e.status).toBe(400);
    expect(e.message).toBe('InvalidArgument: A specified destination ARN does not exist');
  });

  it('says what came back when the reply is not an error document', () => {
    const e = errorFromReply(502, 'Bad Gateway\n');
    expect(e.code).toBeUndefined();
    expect(e.message).toBe('Bad Gateway');
    expect(errorFromReply(503, '').message).toBe('HTTP 503');
  });
});

describe('StoreApi.listenUrl', () => {
  it('presigns the listen request with repeated event keys and the credentials kept out of the URL', async () => {
    const api = new StoreApi({
      endpoint: new URL('http://127.0.0.1:9000'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'very-secret' },
    });
    const url = new URL(
      await api.listenUrl(
        'my bucket',
        { events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'], ping: '1' },
        60,
      ),
    );
    expect(url.origin).toBe('http://127.0.0.1:9000');
    expect(url.pathname).toBe('/my%20bucket');
    expect(url.searchParams.getAll('events')).toEqual(['s3:ObjectCreated:*', 's3:ObjectRemoved:*']);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKID\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.href).not.toContain('very-secret');
  });
});
