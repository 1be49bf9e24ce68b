/** An error loading data, said where the data would be. */
export function Problem(props: { error?: string }) {
  if (!props.error) return null;
  return (
    <p class="problem" role="alert">
      {props.error}
    </p>
  );
}
