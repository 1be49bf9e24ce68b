import { z } from 'zod';
import type { S3StreamHeader } from '../../runtime/protocol.js';

/** Methods an S3 call uses; anything else is refused before it is looked at further. */
export const S3_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const;

/**
 * The S3 stream header as the container sends it, checked strictly: it is untrusted input. The
 * bounds are S3's own (a 1024-byte key is at most 3 KiB encoded, S3 takes 8 KiB of headers).
 */
export const s3StreamHeaderSchema = z
  .object({
    t: z.literal('s3'),
    method: z.enum(S3_METHODS),
    path: z.string().startsWith('/').max(4096),
    query: z.string().max(8192),
    headers: z
      .record(
        z
          .string()
          .max(128)
          .regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'a lower-case HTTP header name'),
        z.string().max(8192),
      )
      .refine((h) => Object.keys(h).length <= 100, 'at most 100 headers'),
  })
  .strict();

/** Parses an S3 stream header; the error names the field that is wrong. */
export function parseS3Header(raw: unknown): S3StreamHeader {
  const parsed = s3StreamHeaderSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`malformed S3 stream header: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
}
