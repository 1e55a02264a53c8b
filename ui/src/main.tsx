import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';

import { logout, me, setUnauthorizedHandler } from './api';
import type { User } from './api';
import { AlertList, AlertView } from './AlertsPage';
import { DashboardList, DashboardView } from './DashboardPage';
import { AdminPage } from './AdminPage';
import { ChangePassword, Login } from './Login';
import { MetricsPage } from './MetricsPage';
import { SearchPage } from './SearchPage';
import { ServicesPage } from './ServicesPage';
import { TracePage } from './TracePage';
import { setNavAdmin } from './Nav';
import './styles.css';

type View = { kind: 'loading' } | { kind: 'login'; notice?: string } | { kind: 'user'; user: User } | { kind: 'error'; message: string };

// The page of a path: /dashboards[/<id>], /alerts[/<id>], anything else the log search.
function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  return path;
}

function App() {
  const [view, setView] = useState<View>({ kind: 'loading' });
  const path = usePath();

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
      setNavAdmin(view.user.role === 'admin');
      return <Page key={path} path={path} admin={view.user.role === 'admin'} email={view.user.email} onLogout={() => void logout().finally(() => setView({ kind: 'login', notice: 'You are logged out.' }))} />;
  }
}

// The page of the location's path (the pages are in Nav.tsx).
function Page({ path, admin, email, onLogout }: { path: string; admin: boolean; email: string; onLogout: () => void }) {
  // The admin page is for admins only; for anyone else /admin is the log search.
  if (path === '/admin' && admin) return <AdminPage email={email} onLogout={onLogout} />;
  const m = /^\/(dashboards|alerts)(?:\/(\d+))?\/?$/.exec(path);
  if (m?.[1] === 'dashboards') {
    return m[2] ? <DashboardView key={m[2]} id={Number(m[2])} email={email} onLogout={onLogout} /> : <DashboardList email={email} onLogout={onLogout} />;
  }
  if (m?.[1] === 'alerts') {
    return m[2] ? <AlertView key={m[2]} id={Number(m[2])} email={email} onLogout={onLogout} /> : <AlertList email={email} onLogout={onLogout} />;
  }
  if (path.startsWith('/trace/')) return <TracePage email={email} onLogout={onLogout} traceId={decodeURIComponent(path.slice('/trace/'.length))} />;
  if (path === '/traces') return <SearchPage email={email} onLogout={onLogout} source="traces" />;
  if (path === '/services') return <ServicesPage email={email} onLogout={onLogout} />;
  if (path === '/metrics') return <MetricsPage email={email} onLogout={onLogout} />;
  return <SearchPage email={email} onLogout={onLogout} />;
}

render(<App />, document.getElementById('app')!);
