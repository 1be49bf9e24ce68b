import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bundler, PROVIDED_PACKAGES } from '../../src/build/bundle.js';
import { FIXTURES, ROOT_DIR } from '../helpers/platform.js';
import { fnSpec } from '../helpers/spec.js';

describe('bundles leave the provided AWS SDK out', () => {
  let dir: string;
  beforeAll(async () => {
    // Inside the project, so that `yaml` resolves from its node_modules as a handler's own dependency.
    dir = await mkdtemp(join(ROOT_DIR, 'bundle-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a handler using client-s3, lib-storage and the presigner bundles small, importing them', async () => {
    const code = await new Bundler().code(
      fnSpec('s3-sdk', { handlerFile: join(FIXTURES, 's3-sdk', 'index.mjs') }),
    );
    // The SDK bundled would be over 1 MB; the handler alone is a few KB (plus its source map).
    expect(Buffer.byteLength(code)).toBeLessThan(32 * 1024);
    for (const name of PROVIDED_PACKAGES) expect(code).toContain(`from "${name}"`);
  });

  it('subpaths of provided packages stay imports; a handler’s own dependencies are bundled', async () => {
    const file = join(dir, 'index.mjs');
    await writeFile(
      file,
      [
        "import { S3Client } from '@aws-sdk/client-s3';",
        "import { parse } from 'yaml';",
        "import pkg from '@aws-sdk/client-s3/package.json' with { type: 'json' };",
        'export const handler = async () => [typeof S3Client, parse("a: 1"), pkg.name];',
      ].join('\n'),
    );
    const code = await new Bundler().code(fnSpec('mixed', { handlerFile: file }));
    expect(code).toContain('from "@aws-sdk/client-s3"');
    expect(code).toContain('from "@aws-sdk/client-s3/package.json"');
    expect(code).not.toMatch(/from "yaml"/);
    expect(Buffer.byteLength(code)).toBeGreaterThan(50 * 1024);
  });
});
