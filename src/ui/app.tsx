import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized, token, Unauthorized } from './api.js';
import { Link } from './components/link.js';
import { Login } from './components/login.js';
import { DeadLettersPage } from './pages/dlq.js';
import { FunctionPage } from './pages/function.js';
import { InvocationPage } from './pages/invocation.js';
import { Overview } from './pages/overview.js';
import { parseRoute, paths, useLocation, type Route } from './router.js';

type Access = 'checking' | 'granted' | 'login' | 'refused';

function Page(props: { route: Route }) {
  const r = props.route;
  switch (r.page) {
    case 'overview':
      return <Overview />;
    case 'function':
      return <FunctionPage key={r.name} name={r.name} />;
    case 'invocation':
      return <InvocationPage key={r.id} id={r.id} />;
    case 'dlq':
      return <DeadLettersPage />;
    case 'missing':
      return <p class="problem">no page at {r.path}</p>;
  }
}

/**
 * The console: asks the API whether it may read (with the token this tab holds, if any), shows
 * the login form when not, and the page the address names when so. Nothing is fetched or shown
 * before access is granted.
 */
export function App() {
  const { path } = useLocation();
  const [access, setAccess] = useState<Access>('checking');

  const check = () => {
    setAccess('checking');
    // The function list: cheap, behind the token, and the first thing every page needs.
    api.functions().then(
      () => setAccess('granted'),
      // A 401 is handled by the onUnauthorized listener below (login, or refused).
      (err: Error) => !(err instanceof Unauthorized) && setAccess('login'),
    );
  };
  useEffect(check, []);
  useEffect(
    () =>
      onUnauthorized(() => {
        const had = token.get() !== null;
        token.clear();
        setAccess(had ? 'refused' : 'login');
      }),
    [],
  );

  const route = parseRoute(path);
  const signOut = () => {
    token.clear();
    setAccess('login');
  };
  return (
    <>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <header>
        <nav aria-label="Console">
          <Link href={paths.overview()} class="brand">
            faas
          </Link>
          <Link href={paths.overview()}>Overview</Link>
          <Link href={paths.dlq()}>Dead letters</Link>
          {access === 'granted' && token.get() && (
            <button type="button" class="link" onClick={signOut}>
              Sign out
            </button>
          )}
        </nav>
      </header>
      <main id="main" data-page={access === 'granted' ? route.page : access}>
        {access === 'checking' && <p class="muted">connecting…</p>}
        {(access === 'login' || access === 'refused') && (
          <Login onToken={check} refused={access === 'refused'} />
        )}
        {access === 'granted' && <Page route={route} />}
      </main>
    </>
  );
}
