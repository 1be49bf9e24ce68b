/**
 * A labelled list filter: "any" (the empty value) and then each option; picking one calls
 * `onPick` with its value.
 * @example <FilterSelect label="status" value={status} options={['succeeded', 'failed']} onPick={(v) => setQuery({ status: v })} />
 */
export function FilterSelect(props: {
  label: string;
  value: string;
  options: readonly string[];
  onPick: (value: string) => void;
}) {
  return (
    <label>
      {props.label}{' '}
      <select value={props.value} onChange={(e) => props.onPick(e.currentTarget.value)}>
        <option value="">any</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
