import type { JobPayload } from './payload.js';
import { s3EventRecord } from './s3-event.js';

/**
 * The event object the handler receives for a job: what AWS would send. Bucket records are kept
 * with their keys decoded and get their AWS form here; webhook events are stored in their final
 * form; the invoke API's event is the posted JSON, as Lambda's Invoke passes it.
 * @param region the platform's S3 region (the records' `awsRegion`, the function's AWS_REGION).
 * @example handlerEvent(payload, 'us-east-1') // { Records: [{ eventSource: 'aws:s3', … }] }
 */
export function handlerEvent(payload: JobPayload, region: string): unknown {
  switch (payload.source) {
    case 'bucket':
      return { Records: [s3EventRecord(payload.record, region)] };
    case 'webhook':
      return payload.event;
    case 'invoke':
      return payload.event;
    case 'queue':
      return { Records: [payload.record] };
    case 'schedule':
      return payload.event;
  }
}
