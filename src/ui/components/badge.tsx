/** A status word with a color that also reads without color (the word is always there). */
export function Badge(props: { status: string }) {
  return <span class={`badge badge-${props.status}`}>{props.status}</span>;
}

/** Cold or warm start. */
export function Start(props: { cold: boolean | null | undefined }) {
  if (props.cold === null || props.cold === undefined) return <span>–</span>;
  return <span class={props.cold ? 'cold' : 'warm'}>{props.cold ? 'cold' : 'warm'}</span>;
}
