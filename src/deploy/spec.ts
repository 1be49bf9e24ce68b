import type { FunctionSpec } from '../manifest/types.js';
import type { VersionRecord } from './versions.js';

/**
 * A function's settings and triggers as a version records them: what the manifest said, without
 * the deployer's paths and without the version's own number and hash (the record holds those).
 */
export function storedSpec(spec: FunctionSpec): Omit<FunctionSpec, 'handlerFile' | 'version' | 'codeHash'> {
  const { handlerFile: _file, version: _version, codeHash: _hash, ...rest } = spec;
  return rest;
}

/** The spec a platform process runs for a version: its settings, number and code hash. */
export function specOfVersion(record: VersionRecord): FunctionSpec {
  const stored = record.spec as Omit<FunctionSpec, 'handlerFile'>;
  return { ...stored, handlerFile: '', version: record.version, codeHash: record.hash };
}
