import type { Command } from 'commander';
import { ManifestError, formatProblem } from '../../manifest/errors.js';
import { manifestPath } from '../manifest-path.js';
import { where } from '../report.js';

/**
 * `faas validate [file]`: checks a manifest, and bundles each handler as `faas up` would (an
 * import that does not resolve, a syntax error, a missing export), without running anything.
 * Prints one line per problem, `file:line:column: path: message`, and exits 1 if there is any.
 * @example validateCommand(program); // faas validate functions/manifest.yaml
 */
export function validateCommand(program: Command): void {
  program
    .command('validate [file]')
    .description('check a functions manifest and bundle its handlers, running nothing')
    .action(async (file: string | undefined, _options: unknown, cmd: Command) => {
      const path = manifestPath(cmd, process.env, file);
      // Loaded here so that the other verbs start without the manifest's schema and esbuild.
      const [{ loadManifest }, { checkHandlers }, { Runtimes }, { loadConfig }] = await Promise.all([
        import('../../manifest/load.js'),
        import('../../build/check.js'),
        import('../../runtimes/index.js'),
        import('../../config/index.js'),
      ]);
      const config = loadConfig(process.env);
      try {
        const manifest = await loadManifest(path);
        await checkHandlers(
          manifest,
          new Runtimes({ cacheDir: config.cacheDir, python: config.FAAS_PYTHON }),
        );
        const names = Object.keys(manifest.functions);
        const count = `${names.length} function${names.length === 1 ? '' : 's'}`;
        console.log(`✓ ${path}: ${count}${names.length > 0 ? ` (${names.join(', ')})` : ''}`);
      } catch (e) {
        if (!(e instanceof ManifestError)) throw e;
        for (const problem of e.problems) console.error(`${where(path, problem)} ${formatProblem(problem)}`);
        const n = e.problems.length;
        console.error(`✗ ${path}: ${n} problem${n === 1 ? '' : 's'}, nothing applied`);
        process.exitCode = 1;
      }
    });
}

/**
 * `faas schema`: prints the manifest's JSON Schema, for editors
 * (`# yaml-language-server: $schema=...` at the top of the manifest).
 * @example schemaCommand(program); // faas schema > schema/manifest.schema.json
 */
export function schemaCommand(program: Command): void {
  program
    .command('schema')
    .description("print the manifest's JSON Schema")
    .action(async () => {
      const { manifestJsonSchema } = await import('../../manifest/json-schema.js');
      console.log(JSON.stringify(manifestJsonSchema(), null, 2));
    });
}
