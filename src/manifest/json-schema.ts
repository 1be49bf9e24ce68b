import { z } from 'zod';
import { manifestSchema } from './schema.js';

/**
 * The manifest's JSON Schema (draft-07, which editors support best), generated from the same zod
 * schema that validates it. Fields with defaults are optional. Cross-field rules (unique webhook
 * paths, handler files) are checked only by `faas validate`.
 * @example writeFileSync('schema/manifest.schema.json', JSON.stringify(manifestJsonSchema(), null, 2) + '\n');
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, { io: 'input', target: 'draft-07' }) as Record<
    string,
    unknown
  >;
  // Top-level `x-` fields hold YAML anchors for merge keys; the manifest's reader ignores them.
  return { ...schema, patternProperties: { '^x-': {} } };
}
