// The pages' shared top bar (Logs, Dashboards, Alerts) and in-app navigation: a path change
// without a reload, which main.tsx follows.
export function navigate(url: string) {
  window.history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export type Section = 'logs' | 'dashboards' | 'alerts';

export function NavLinks({ current }: { current: Section }) {
  const link = (section: Section, href: string, label: string) => (
    <a
      href={href}
      class={`nav-link${current === section ? ' current' : ''}`}
      aria-current={current === section ? 'page' : undefined}
      data-testid={`nav-${section}`}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {label}
    </a>
  );
  return (
    <nav class="nav">
      {link('logs', '/', 'Logs')}
      {link('dashboards', '/dashboards', 'Dashboards')}
      {link('alerts', '/alerts', 'Alerts')}
    </nav>
  );
}

export function TopBar({ email, onLogout, current }: { email: string; onLogout: () => void; current: Section }) {
  return (
    <header class="topbar">
      <span class="brand">stackhouse</span>
      <NavLinks current={current} />
      <span class="spacer" />
      {email && (
        <>
          <span class="who" title={email}>
            {email}
          </span>
          <button type="button" class="btn subtle" data-testid="logout" onClick={onLogout}>
            Log out
          </button>
        </>
      )}
    </header>
  );
}
