import { useState } from 'preact/hooks';
import { token } from '../api.js';

/** Asks for the API token; it is kept for this tab's session only. */
export function Login(props: { onToken: () => void; refused: boolean }) {
  const [value, setValue] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    if (!value.trim()) return;
    token.set(value.trim());
    props.onToken();
  };
  return (
    <form class="login" onSubmit={submit} data-testid="login">
      <h1>Sign in</h1>
      <p>
        This platform wants its API token (FAAS_API_TOKEN). It is kept for this browser tab's session only.
      </p>
      {props.refused && (
        <p class="problem" role="alert">
          That token was refused.
        </p>
      )}
      <label for="token">API token</label>
      <input
        id="token"
        type="password"
        autoComplete="current-password"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit">Sign in</button>
    </form>
  );
}
