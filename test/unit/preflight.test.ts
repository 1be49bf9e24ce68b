import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { checkDocker, checkRedis, checkStorage } from '../../src/cli/preflight.js';
import { EngineApi } from '../../src/pool/engine-api.js';
import { UserError } from '../../src/util/user-error.js';

// Real connection attempts to ports and sockets where nothing listens: each refusal is a user
// error that names the setting and the command that starts the service.
describe('the checks before the platform starts', () => {
  it('Redis: names REDIS_URL (without its password) and the command that starts it', async () => {
    const err = await checkRedis('redis://:hunter2@127.0.0.1:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      /^Redis is not reachable at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\): start it with `npm run services:up`, or set REDIS_URL$/,
    );
  });

  it('storage: names S3_ENDPOINT and the command that starts MinIO', async () => {
    const s3 = new S3Client({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    });
    try {
      await expect(checkStorage(s3, 'http://127.0.0.1:1')).rejects.toThrow(
        /^storage \(MinIO\) is not reachable at http:\/\/127\.0\.0\.1:1 \(.*\): start it with `npm run services:up`, or set S3_ENDPOINT$/,
      );
    } finally {
      s3.destroy();
    }
  });

  it('Docker: names the command that starts it', async () => {
    await expect(checkDocker(new EngineApi({ socketPath: '/nonexistent/docker.sock' }))).rejects.toThrow(
      /^the Docker engine is not reachable \(connect ENOENT \/nonexistent\/docker\.sock\): start it with `npm run services:up`, or set DOCKER_HOST$/,
    );
  });
});
