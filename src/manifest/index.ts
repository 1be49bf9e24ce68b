export { ManifestError, type Problem, formatProblem } from './errors.js';
export { loadManifest, parseManifest } from './load.js';
export { manifestJsonSchema } from './json-schema.js';
export { LIMITS } from './fields.js';
export type * from './types.js';
