import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { logout, me, setUnauthorizedHandler } from './api';
import type { User } from './api';
import { ChangePassword, Login } from './Login';
import { MetricsPage } from './MetricsPage';
import { SearchPage } from './SearchPage';
import './styles.css';

type View = { kind: 'loading' } | { kind: 'login'; notice?: string } | { kind: 'user'; user: User } | { kind: 'error'; message: string };

function App() {
  const [view, setView] = useState<View>({ kind: 'loading' });

  useEffect(() => {
    setUnauthorizedHandler(() => setView({ kind: 'login', notice: 'Your session ended: log in again.' }));
    me()
      .then((user) => setView(user ? { kind: 'user', user } : { kind: 'login' }))
      .catch((e: unknown) => setView({ kind: 'error', message: e instanceof Error ? e.message : String(e) }));
  }, []);

  // The moment the first real page is on screen, for the load-time figure (tests/e2e/ui.test.mjs).
  useEffect(() => {
    if (view.kind !== 'loading' && performance.getEntriesByName('stackhouse-first-page').length === 0) {
      requestAnimationFrame(() => performance.mark('stackhouse-first-page'));
    }
  }, [view.kind]);

  switch (view.kind) {
    case 'loading':
      return <div class="center muted">Loading…</div>;
    case 'error':
      return (
        <div class="center">
          <p class="error" role="alert">
            The server did not answer: {view.message}
          </p>
          <button type="button" class="btn" onClick={() => location.reload()}>
            Retry
          </button>
        </div>
      );
    case 'login':
      return <Login notice={view.notice} onLogin={(user) => setView({ kind: 'user', user })} />;
    case 'user':
      if (view.user.mustChangePassword) {
        return (
          <ChangePassword
            email={view.user.email}
            onChanged={() => setView({ kind: 'user', user: { ...view.user, mustChangePassword: false } })}
          />
        );
      }
      if (location.pathname.startsWith('/metrics')) {
        return (
          <MetricsPage
            email={view.user.email}
            onLogout={() => {
              void logout().finally(() => setView({ kind: 'login', notice: 'You are logged out.' }));
            }}
          />
        );
      }
      return (
        <SearchPage
          email={view.user.email}
          onLogout={() => {
            void logout().finally(() => setView({ kind: 'login', notice: 'You are logged out.' }));
          }}
        />
      );
  }
}

render(<App />, document.getElementById('app')!);
