import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demux } from '../helpers/docker.js';
import {
  requireDocker,
  requireMinio,
  requireRedis,
  requireRuntimeImage,
  uniqueName,
} from '../helpers/services.js';

describe('Redis', () => {
  it('reads back what it stores and never evicts', async () => {
    const redis = await requireRedis();
    const key = uniqueName('faas-test');
    try {
      await redis.set(key, 'value', 'EX', 60);
      expect(await redis.get(key)).toBe('value');
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });
});

describe('MinIO', () => {
  it('creates a bucket, stores an object and returns it through the S3 API', async () => {
    const s3 = await requireMinio();
    const Bucket = uniqueName('faas-test');
    const body = `hello ${Bucket}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    try {
      await s3.send(
        new PutObjectCommand({ Bucket, Key: 'dir/hello.txt', Body: body, ContentType: 'text/plain' }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
      expect(got.ContentType).toBe('text/plain');
      expect(await got.Body?.transformToString()).toBe(body);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
      await s3.send(new DeleteBucketCommand({ Bucket }));
      s3.destroy();
    }
  });
});

describe('Docker runtime image', () => {
  let docker: Docker;
  let image: string;
  beforeAll(async () => {
    docker = await requireDocker();
    image = await requireRuntimeImage();
  });
  const created: Docker.Container[] = [];
  afterAll(async () => {
    await Promise.all(created.map((c) => c.remove({ force: true }).catch(() => undefined)));
  });

  it('runs a script with no network as a non-root user and returns its output', async () => {
    const container = await docker.createContainer({
      Image: image,
      Cmd: [
        '/usr/bin/node',
        '-e',
        "const os=require('os');console.log(JSON.stringify({uid:process.getuid(),ifaces:Object.keys(os.networkInterfaces()),sum:[1,2,3].reduce((a,b)=>a+b)}))",
      ],
      Labels: { 'faas.platform': 'test', 'faas.test': 'services' },
      HostConfig: { NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'] },
    });
    created.push(container);
    await container.start();
    const exit = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    const output = demux(logs).trim();
    expect(exit.StatusCode).toBe(0);
    expect(JSON.parse(output)).toEqual({ uid: 10001, ifaces: ['lo'], sum: 6 });
  });
});
