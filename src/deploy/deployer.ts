import { hostname, userInfo } from 'node:os';
import type { Runtimes } from '../runtimes/index.js';
import type { FunctionSpec, Manifest } from '../manifest/types.js';
import { UserError } from '../util/user-error.js';
import { CodeNotFound, type CodeStore } from './code-store.js';
import { specOfVersion, storedSpec } from './spec.js';
import type { DeployResult, VersionRegistry } from './versions.js';

/** One function of a deploy: its validated settings and the hash of its bundle in the store. */
export interface DeployItem {
  spec: FunctionSpec;
  hash: string;
}

export interface DeployOptions {
  /** Functions not in this deploy lose their current version (`faas deploy --prune`, `faas up`). */
  prune: boolean;
  /** Who deployed (user@host, or the API's caller). */
  by: string;
  /** The manifest file it came from, as the deployer named it. */
  manifest?: string;
}

export interface DeployedFunction extends DeployResult {
  /** The bundle's hash (absent for a removed function). */
  hash?: string;
}

/** Raised when a deploy is refused; nothing of it was applied. */
export class DeployRefused extends UserError {
  override name = 'DeployRefused';
  constructor(
    readonly problems: string[],
    what = 'deploy',
    fix = problems.length === 1 ? 'fix it and deploy again' : 'fix them and deploy again',
  ) {
    super(`${what} refused, nothing changed: ${problems.join('; ')}`, fix);
  }
}

/** The buckets a function names: its grants and its bucket triggers. */
function namedBuckets(spec: FunctionSpec): string[] {
  return [
    ...spec.storage.read.map((g) => g.bucket),
    ...spec.storage.write.map((g) => g.bucket),
    ...spec.triggers.flatMap((t) => (t.type === 'bucket' ? [t.bucket] : [])),
  ];
}

/**
 * What keeps a set of functions from being deployed beside `others` (the functions that stay
 * current): a grant or trigger on the code bucket, and a webhook path another function serves.
 */
export function deployProblems(
  specs: FunctionSpec[],
  others: readonly FunctionSpec[],
  codeBucket: string,
): string[] {
  const problems: string[] = [];
  for (const s of specs) {
    if (namedBuckets(s).includes(codeBucket))
      problems.push(`function ${s.name}: bucket ${codeBucket} holds deployed code; no function may name it`);
  }
  const names = new Set(specs.map((s) => s.name));
  const paths = new Map<string, string>();
  // The functions that stay are only read: a clash among them is none of this deploy's doing.
  for (const o of others) {
    if (names.has(o.name)) continue;
    for (const t of o.triggers) if (t.type === 'webhook') paths.set(t.path.toLowerCase(), o.name);
  }
  for (const s of specs) {
    for (const t of s.triggers) {
      if (t.type !== 'webhook') continue;
      const path = t.path.toLowerCase();
      const owner = paths.get(path);
      if (owner && owner !== s.name)
        problems.push(`function ${s.name}: webhook path ${t.path} is already function ${owner}'s`);
      paths.set(path, s.name);
    }
  }
  return problems;
}

/**
 * The webhook secrets a set of functions names that `secret` cannot resolve: every signed request
 * to them would be refused, so they are refused at start and at deploy instead.
 * @example unsetSecrets(specs, (n) => process.env[n]) // ['function hook: webhook secret HOOK_SECRET is not set …']
 */
export function unsetSecrets(
  specs: readonly FunctionSpec[],
  secret: (name: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  for (const s of specs) {
    for (const t of s.triggers) {
      if (t.type === 'webhook' && t.secret && !secret(t.secret))
        problems.push(
          `function ${s.name}: webhook secret ${t.secret} is not set in the API's environment (set it where faas up or faas api runs)`,
        );
    }
  }
  return problems;
}

/**
 * Records versions: checks a deploy whole (code present and matching its hash, no grant on the
 * code bucket, no webhook path taken twice), then applies it in one atomic step of the registry,
 * or refuses it and changes nothing.
 */
export class Deployer {
  constructor(
    readonly store: CodeStore,
    readonly registry: VersionRegistry,
  ) {}

  /**
   * Checks and applies a deploy while no other deploy of the cluster runs, against the functions
   * current in the registry then (not a process's view, which may lag behind another's deploy).
   */
  async deploy(items: DeployItem[], o: DeployOptions): Promise<DeployedFunction[]> {
    // The code is checked first: it does not depend on the registry, and reading it may be slow.
    const missing = await this.missingCode(items);
    return this.registry.exclusive(async () =>
      this.deployNow(items, o, o.prune ? [] : await this.current(), missing),
    );
  }

  /** The items whose bundle the store does not hold (or holds other bytes for). */
  private async missingCode(items: DeployItem[]): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      items.map(async ({ spec, hash }) => {
        try {
          // Read whole: the store checks the content against the hash (and keeps it cached).
          await this.store.get(hash);
        } catch (err) {
          if (!(err instanceof CodeNotFound)) throw err;
          problems.push(`function ${spec.name}: ${err.message}: upload its bundle first`);
        }
      }),
    );
    return problems;
  }

  /**
   * Makes an earlier version of a function current (by default the one before the current one, or
   * a removed function's last), refused like a deploy when its webhook paths are another's now.
   * @throws UnknownVersion, DeployRefused
   */
  async rollback(name: string, to?: number): Promise<number> {
    return this.registry.exclusive(async () => {
      const target = await this.registry.rollbackTarget(name, to);
      const problems = deployProblems([specOfVersion(target)], await this.current(), this.store.bucket);
      if (problems.length > 0)
        throw new DeployRefused(
          problems,
          `rollback of ${name} to v${target.version}`,
          `change or remove the function that holds it, or roll back to another version (\`faas versions ${name}\`)`,
        );
      return this.registry.rollback(name, target.version);
    });
  }

  /** The functions current in the registry. */
  private async current(): Promise<FunctionSpec[]> {
    return [...(await this.registry.current()).versions.values()].map(specOfVersion);
  }

  private async deployNow(
    items: DeployItem[],
    o: DeployOptions,
    current: readonly FunctionSpec[],
    missingCode: string[],
  ): Promise<DeployedFunction[]> {
    const problems = [
      ...deployProblems(
        items.map((i) => i.spec),
        current,
        this.store.bucket,
      ),
      ...missingCode,
    ];
    if (problems.length > 0) throw new DeployRefused(problems);
    const hashes = new Map(items.map((i) => [i.spec.name, i.hash]));
    const results = await this.registry.deploy(
      items.map(({ spec, hash }) => ({
        name: spec.name,
        hash,
        spec: storedSpec(spec),
        deployedAt: Date.now(),
        deployedBy: o.by,
        manifest: o.manifest,
      })),
      o.prune,
    );
    return results.map((r) => ({ ...r, hash: hashes.get(r.name) }));
  }
}

/**
 * Builds every function of a manifest into the bytes the code store keeps (a Node.js bundle, a
 * Python function's folder with its dependencies); `progress` hears of each one done.
 * @throws BundleError (a UserError) naming the file and line of the first function that fails.
 */
export async function bundleManifest(
  manifest: Manifest,
  runtimes: Runtimes,
  progress: (done: number, total: number, name: string) => void = () => undefined,
): Promise<Map<string, Buffer>> {
  const specs = Object.values(manifest.functions);
  const out = new Map<string, Buffer>();
  let done = 0;
  await Promise.all(
    specs.map(async (spec) => {
      out.set(spec.name, await runtimes.pack(spec));
      progress(++done, specs.length, spec.name);
    }),
  );
  return out;
}

/** Bundles a manifest, stores every bundle and deploys it: what `faas up --manifest` does first. */
export async function deployManifest(
  manifest: Manifest,
  runtimes: Runtimes,
  deployer: Deployer,
  o: DeployOptions,
): Promise<DeployedFunction[]> {
  const bundles = await bundleManifest(manifest, runtimes);
  const items: DeployItem[] = [];
  for (const spec of Object.values(manifest.functions)) {
    const hash = await deployer.store.put(bundles.get(spec.name) as Buffer);
    items.push({ spec, hash });
  }
  return deployer.deploy(items, o);
}

/** `user@host`: who deploys from this machine. */
export function whoDeploys(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No user entry (a container with an arbitrary uid): the host still says where.
  }
  return `${user}@${hostname()}`;
}
