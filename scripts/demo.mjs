// The README's main command: runs the platform with the example functions, uploads the samples
// and prints what the functions wrote. Talks only to the local services on 127.0.0.1.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

const endpoint = process.env.S3_ENDPOINT ?? 'http://127.0.0.1:9000';
const port = process.env.FAAS_PORT ?? '8080';
const api = `http://127.0.0.1:${port}`;
const s3 = new S3Client({
  endpoint,
  region: process.env.S3_REGION ?? 'us-east-1',
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.S3_ACCESS_KEY_ID ?? 'minioadmin',
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? 'minioadmin',
  },
});
const step = (msg) => console.log(`\x1b[1m==>\x1b[0m ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

step('starting the platform: faas up (functions/manifest.yaml)');
const platform = spawn(process.execPath, ['bin/faas.js', 'up'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, FAAS_LOG_LEVEL: process.env.FAAS_LOG_LEVEL ?? 'warn' },
});
const exited = new Promise((resolve) => platform.once('exit', resolve));
let code = 0;
try {
  await Promise.race([
    until('the API', async () => ((await fetch(`${api}/healthz`)).ok ? true : undefined)),
    exited.then((c) => Promise.reject(new Error(`the platform exited with code ${c}`))),
  ]);
  step(`platform up at ${api} (GET /healthz ok)`);

  const uploads = [
    [
      'csv/sales 2026.csv',
      'functions/samples/sales.csv',
      'text/csv',
      'summaries',
      'csv/sales 2026.csv.summary.json',
    ],
    ['text/story.txt', 'functions/samples/story.txt', 'text/plain', 'summaries', 'text/story.txt.words.json'],
    // The same CSV for the Python function (csv-stats, boto3).
    [
      'stats/sales 2026.csv',
      'functions/samples/sales.csv',
      'text/csv',
      'summaries',
      'stats/sales 2026.csv.stats.json',
    ],
  ];
  for (const [key, file, type, outBucket, outKey] of uploads) {
    // A fresh run: the output of an earlier demo must not pass for this one's.
    await s3.send(new DeleteObjectCommand({ Bucket: outBucket, Key: outKey })).catch(() => undefined);
    step(`uploading ${file} to s3://uploads/${key}`);
    await s3.send(
      new PutObjectCommand({ Bucket: 'uploads', Key: key, Body: await readFile(file), ContentType: type }),
    );
    const body = await until(`s3://${outBucket}/${outKey}`, async () => {
      const res = await s3.send(new GetObjectCommand({ Bucket: outBucket, Key: outKey }));
      return res.Body.transformToString();
    });
    step(`the function wrote s3://${outBucket}/${outKey}:`);
    console.log(body);
  }
  step('calling the webhook: GET /hooks/hello?name=demo');
  const res = await fetch(`${api}/hooks/hello?name=demo`);
  console.log(`${res.status} ${await res.text()}`);
} catch (err) {
  console.error(`demo failed: ${err.message}`);
  code = 1;
} finally {
  platform.kill('SIGTERM');
  await exited;
  s3.destroy();
}
process.exit(code);
