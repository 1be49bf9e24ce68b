import { readFile } from 'node:fs/promises';
import { ManifestError, type Problem, formatPath } from '../manifest/errors.js';
import type { Manifest } from '../manifest/types.js';
import { readYaml } from '../manifest/yaml.js';
import { BundleError, Bundler, formatCodeProblem } from './bundle.js';

/**
 * Bundles every function's handler as the workers will, so that code that cannot run is refused
 * before anything starts: an import that does not resolve, a syntax error, a missing export.
 * Each problem is at `functions.<name>.handler` in the manifest and names the source file and line.
 * @throws ManifestError listing every problem; other errors (esbuild itself failing) as they are.
 * @example await checkHandlers(await loadManifest(file));
 */
export async function checkHandlers(manifest: Manifest, bundler = new Bundler(manifest.dir)): Promise<void> {
  const specs = Object.values(manifest.functions);
  const results = await Promise.allSettled(specs.map((spec) => bundler.code(spec)));
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
