import { readFile } from 'node:fs/promises';
import { ManifestError, type Problem, formatPath } from '../manifest/errors.js';
import type { Manifest } from '../manifest/types.js';
import { readYaml } from '../manifest/yaml.js';
import type { Runtimes } from '../runtimes/index.js';
import { BundleError, formatCodeProblem } from './bundle.js';

/**
 * Builds every function's code as the workers will (bundles a Node.js handler, installs a Python
 * function's requirements and compiles it), so that code that cannot run is refused before
 * anything starts: an import that does not resolve, a syntax error, a missing export, a
 * requirement pip cannot install.
 * Each problem is at `functions.<name>.handler` in the manifest and names the source file and line.
 * @throws ManifestError listing every problem; other errors (esbuild itself failing) as they are.
 * @example await checkHandlers(await loadManifest(file), new Runtimes({ cacheDir }));
 */
export async function checkHandlers(manifest: Manifest, runtimes: Runtimes): Promise<void> {
  const specs = Object.values(manifest.functions);
  const results = await Promise.allSettled(specs.map((spec) => runtimes.prepare(spec)));
  const found: Array<{ path: string[]; message: string }> = [];
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    if (!(result.reason instanceof BundleError)) throw result.reason;
    for (const p of result.reason.problems) {
      found.push({
        path: ['functions', specs[i]!.name, 'handler'],
        message: formatCodeProblem(p, manifest.dir),
      });
    }
  });
  if (found.length === 0) return;
  // Positions in the manifest, for editors to jump to the handler field.
  const yaml = readYaml(await readFile(manifest.file, 'utf8').catch(() => ''));
  const problems: Problem[] = found.map((p) => ({
    path: formatPath(p.path),
    message: p.message,
    ...yaml.locate(p.path),
  }));
  throw new ManifestError(manifest.file, problems);
}
