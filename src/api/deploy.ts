import type { Hono } from 'hono';
import { z } from 'zod';
import { codeHash } from '../deploy/code-store.js';
import { DeployRefused, unsetSecrets, type Deployer } from '../deploy/deployer.js';
import { DeployBusy, UnknownVersion } from '../deploy/versions.js';
import { ROUTES } from '../http/routes.js';
import { formatProblem, ManifestError } from '../manifest/errors.js';
import { parseManifest } from '../manifest/load.js';
import type { FunctionSpec } from '../manifest/types.js';
import { limitBody } from './body-limit.js';
import { HttpError } from './errors.js';

/** Largest bundle the API takes for the code store (a deploy's bundles skip the body limit). */
export const MAX_CODE_BYTES = 256 * 1024 * 1024;

export interface DeployDeps {
  deployer: Deployer;
  /** The functions current in this process (a deploy without prune keeps the others). */
  functions: () => readonly FunctionSpec[];
  /** Resolves once this process serves what the registry now says (after a change it made). */
  settled: () => Promise<void>;
  bodyLimit: number;
  /** The value of a webhook secret's variable in this process (a deploy naming an unset one is refused). */
  secret?: (name: string) => string | undefined;
}

const deploySchema = z.object({
  /** The manifest's text, as in the deployer's file. */
  manifest: z.string().min(1),
  /** The manifest's file name, as the deployer named it (for the version's record). */
  file: z.string().max(1024).optional(),
  /** sha256 of each function's bundle, already in the code store. */
  code: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex')),
  prune: z.boolean().optional(),
  by: z.string().max(200).optional(),
});

const rollbackSchema = z.object({ to: z.number().int().min(1).optional() }).strict();

async function jsonBody(text: string): Promise<unknown> {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  }
}

function invalid(error: z.ZodError): HttpError {
  const problems = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  return new HttpError(400, 'invalid_request', problems.join('; '), {}, { problems });
}

/**
 * Deploys through the API: `GET|PUT /deployments/code/:hash` (is a bundle stored; store one,
 * checked against its hash, outside the body limit), `POST /deployments` (a manifest's text and
 * its bundles' hashes; validated whole, applied at once or refused), `GET /functions/:name/versions`,
 * `POST /functions/:name/rollback` and `DELETE /functions/:name`. The caller mounts them behind
 * the bearer token.
 */
/** Another change of the cluster held the deploy lock too long: the client tries again. */
function busy(err: DeployBusy): HttpError {
  // The message says what to do: no generic advice (a 503 is otherwise "Redis is down").
  return new HttpError(503, 'deploy_busy', err.message, { 'Retry-After': '5' }, { fix: '' });
}

export function deployRoutes(app: Hono, d: DeployDeps): void {
  const { store, registry } = d.deployer;

  app.get(ROUTES.deploymentCode, async (c) => {
    const hash = c.req.param('hash');
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new HttpError(400, 'invalid_hash', 'not a sha256 in hex');
    if (!(await store.has(hash)))
      throw new HttpError(404, 'not_found', `no code ${hash.slice(0, 12)} stored`);
    return c.json({ hash, stored: true });
  });

  app.put(ROUTES.deploymentCode, limitBody(MAX_CODE_BYTES), async (c) => {
    const hash = c.req.param('hash');
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new HttpError(400, 'invalid_hash', 'not a sha256 in hex');
    const body = Buffer.from(await c.req.arrayBuffer());
    const actual = codeHash(body);
    if (actual !== hash)
      throw new HttpError(
        400,
        'hash_mismatch',
        `the body's sha256 is ${actual}, not ${hash}: upload the bundle unchanged`,
      );
    await store.put(body);
    return c.json({ hash, size: body.length }, 201);
  });

  app.post(ROUTES.deployments, limitBody(d.bodyLimit), async (c) => {
    const parsed = deploySchema.safeParse(await jsonBody(await c.req.text()));
    if (!parsed.success) throw invalid(parsed.error);
    const body = parsed.data;
    const file = body.file ?? 'manifest.yaml';
    let functions: FunctionSpec[];
    try {
      functions = Object.values(parseManifest(body.manifest, file, { disk: false }).functions);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      const problems = err.problems.map(
        (p) => `${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${formatProblem(p)}`,
      );
      throw new HttpError(400, 'invalid_manifest', problems.join('\n'), {}, { problems });
    }
    const missing = functions.filter((f) => !Object.hasOwn(body.code, f.name)).map((f) => f.name);
    if (missing.length)
      throw new HttpError(
        400,
        'missing_code',
        `no bundle hash for ${missing.join(', ')}`,
        {},
        { functions: missing },
      );
    let results;
    try {
      const unset = d.secret ? unsetSecrets(functions, d.secret) : [];
      if (unset.length) throw new DeployRefused(unset);
      results = await d.deployer.deploy(
        functions.map((spec) => ({ spec, hash: body.code[spec.name] as string })),
        { prune: body.prune ?? false, by: body.by ?? 'api', manifest: file },
      );
    } catch (err) {
      if (err instanceof DeployRefused)
        throw new HttpError(409, 'deploy_refused', err.message, {}, { problems: err.problems, fix: '' });
      if (err instanceof DeployBusy) throw busy(err);
      throw err;
    }
    await d.settled();
    return c.json({ functions: results });
  });

  app.get(ROUTES.versions, async (c) => {
    const name = c.req.param('name');
    const [versions, current] = await Promise.all([registry.list(name), registry.currentVersion(name)]);
    if (versions.length === 0) throw new HttpError(404, 'not_found', `function ${name} was never deployed`);
    return c.json({
      name,
      current: current || null,
      versions: versions.map((v) => ({
        version: v.version,
        hash: v.hash,
        deployedAt: new Date(v.deployedAt).toISOString(),
        deployedBy: v.deployedBy,
        manifest: v.manifest ?? null,
        current: v.version === current,
      })),
    });
  });

  app.post(ROUTES.rollback, limitBody(64 * 1024), async (c) => {
    const name = c.req.param('name');
    const parsed = rollbackSchema.safeParse(await jsonBody(await c.req.text()));
    if (!parsed.success) throw invalid(parsed.error);
    const from = await registry.currentVersion(name);
    let version: number;
    try {
      version = await d.deployer.rollback(name, parsed.data.to);
    } catch (err) {
      if (err instanceof UnknownVersion)
        throw new HttpError(
          404,
          'not_found',
          err.message,
          {},
          { fix: `\`faas versions ${name}\` lists them` },
        );
      if (err instanceof DeployRefused)
        throw new HttpError(409, 'rollback_refused', err.message, {}, { problems: err.problems, fix: '' });
      if (err instanceof DeployBusy) throw busy(err);
      throw err;
    }
    await d.settled();
    return c.json({ name, version, from: from || null });
  });

  app.delete(ROUTES.function, async (c) => {
    const name = c.req.param('name');
    const removed = await registry
      .exclusive(() => registry.remove(name))
      .catch((err: Error) => {
        throw err instanceof DeployBusy ? busy(err) : err;
      });
    if (!removed) throw new HttpError(404, 'not_found', `no function named ${name} is deployed`);
    await d.settled();
    return c.json({ name, removed: true });
  });
}
