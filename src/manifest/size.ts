/** Memory sizes as Kubernetes writes them: `128Mi`, `1Gi`, `512M`, `1.5Gi`. A unit is required. */
export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)$/;

const UNIT_BYTES = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
} as const;

/**
 * Parses a size into bytes; throws on anything else.
 * @example parseSize('256Mi') // 268435456
 */
export function parseSize(text: string): number {
  const m = SIZE_PATTERN.exec(text);
  if (!m) throw new Error(`not a size: ${text} (use a number with Ki, Mi, Gi, Ti, k, M, G or T)`);
  return Math.round(Number(m[1]) * UNIT_BYTES[m[2] as keyof typeof UNIT_BYTES]);
}

/** Formats bytes as the largest binary unit that divides them exactly (`268435456` → `256Mi`). */
export function formatSize(bytes: number): string {
  for (const unit of ['Ti', 'Gi', 'Mi', 'Ki'] as const) {
    if (bytes > 0 && bytes % UNIT_BYTES[unit] === 0) return `${bytes / UNIT_BYTES[unit]}${unit}`;
  }
  return `${bytes}`;
}
