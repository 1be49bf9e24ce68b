import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { paths } from '../router.js';
import { Link } from './link.js';

/** Invokes a function with a JSON event and shows the answer, as `faas invoke` does. */
export function InvokeForm(props: { fn: string; onDone?: () => void }) {
  const [body, setBody] = useState('{}');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ status: number; id?: string; text: string }>();
  const [error, setError] = useState<string>();

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      JSON.parse(body);
    } catch {
      setError('the event is not valid JSON');
      return;
    }
    setBusy(true);
    try {
      setAnswer(await api.invoke(props.fn, body));
      props.onDone?.();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="invoke" onSubmit={submit} data-testid="invoke-form">
      <label for="invoke-body">Event (JSON)</label>
      <textarea id="invoke-body" rows={4} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
      <button type="submit" disabled={busy}>
        {busy ? 'Invoking…' : 'Invoke'}
      </button>
      {error && (
        <p class="problem" role="alert">
          {error}
        </p>
      )}
      {answer && (
        <div data-testid="invoke-result" data-status={answer.status} aria-live="polite">
          <p>
            HTTP {answer.status}
            {answer.id && (
              <>
                {' · '}
                <Link href={paths.invocation(answer.id)} class="mono">
                  {answer.id}
                </Link>
              </>
            )}
          </p>
          <pre>{answer.text}</pre>
        </div>
      )}
    </form>
  );
}
