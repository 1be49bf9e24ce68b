import { api } from '../api.js';
import { ms } from '../format.js';
import { useData } from '../use-data.js';

/** Each service the platform depends on, from /healthz, refreshed every 5 s. */
export function HealthPanel() {
  const health = useData(() => api.health(), [], 5000);
  const checks = health.data?.checks ?? {};
  return (
    <section aria-labelledby="health-h">
      <h2 id="health-h">Services</h2>
      <ul class="health" data-testid="health">
        {Object.entries(checks).map(([name, c]) => (
          <li key={name} class={c.ok ? 'ok' : 'down'} title={c.error}>
            <strong>{name}</strong> {c.ok ? `ok · ${ms(c.ms)}` : `down: ${c.error ?? ''}`}
          </li>
        ))}
      </ul>
    </section>
  );
}
