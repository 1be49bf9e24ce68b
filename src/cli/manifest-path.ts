import type { Command } from 'commander';

/**
 * The manifest a command works on: its argument, else the global `--manifest`, else
 * `FAAS_MANIFEST`, else `functions/manifest.yaml`.
 * @example const file = manifestPath(cmd, process.env, fileArgument);
 */
export function manifestPath(
  cmd: Command,
  env: Record<string, string | undefined>,
  argument?: string,
): string {
  const option = cmd.optsWithGlobals<{ manifest?: string }>().manifest;
  return argument || option || env.FAAS_MANIFEST || 'functions/manifest.yaml';
}
