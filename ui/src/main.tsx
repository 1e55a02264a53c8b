import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

import { logout, me, setUnauthorizedHandler } from './api';
import type { User } from './api';
import { AdminPage } from './AdminPage';
import { ChangePassword, Login } from './Login';
import { SearchPage } from './SearchPage';
import './styles.css';

type View = { kind: 'loading' } | { kind: 'login'; notice?: string } | { kind: 'user'; user: User } | { kind: 'error'; message: string };

// The admin page lives at /admin; every other path is the log search.
const onAdminPath = () => location.pathname === '/admin';

function App() {
  const [view, setView] = useState<View>({ kind: 'loading' });
  const [admin, setAdmin] = useState(onAdminPath);
  const searchUrl = useRef('/');

  useEffect(() => {
    const onPop = () => setAdmin(onAdminPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

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
      {
        const onLogout = () => {
          void logout().finally(() => setView({ kind: 'login', notice: 'You are logged out.' }));
        };
        const isAdmin = view.user.role === 'admin';
        if (admin && isAdmin) {
          return (
            <AdminPage
              email={view.user.email}
              onLogout={onLogout}
              onBack={() => {
                window.history.pushState(null, '', searchUrl.current);
                setAdmin(false);
              }}
            />
          );
        }
        return (
          <SearchPage
            email={view.user.email}
            onLogout={onLogout}
            onAdmin={
              isAdmin
                ? () => {
                    searchUrl.current = onAdminPath() ? '/' : `${location.pathname}${location.search}`;
                    window.history.pushState(null, '', '/admin');
                    setAdmin(true);
                  }
                : undefined
            }
          />
        );
      }
  }
}

render(<App />, document.getElementById('app')!);
