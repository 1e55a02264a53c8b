// The bar on top of every page: the brand, the pages (add a page by adding an entry to `pages`),
// who is logged in, and Log out. Pages are plain links: each page reads its state from the URL.
import type { ComponentChildren } from 'preact';

import './nav.css';

export interface NavPage {
  path: string;
  label: string;
  // Whether a location path belongs to this page (default: the path itself).
  matches?: (pathname: string) => boolean;
}

export const pages: NavPage[] = [
  { path: '/', label: 'Logs', matches: (p) => p === '/' || p === '/index.html' },
  { path: '/traces', label: 'Traces', matches: (p) => p === '/traces' || p.startsWith('/trace/') },
  { path: '/services', label: 'Services' },
  { path: '/metrics', label: 'Metrics' },
  { path: '/dashboards', label: 'Dashboards', matches: (p) => p === '/dashboards' || p.startsWith('/dashboards/') },
  { path: '/alerts', label: 'Alerts', matches: (p) => p === '/alerts' || p.startsWith('/alerts/') },
];

// Whether the user is an admin: TopBar then links the admin page (set by main.tsx at login).
let navAdmin = false;
export function setNavAdmin(admin: boolean) {
  navAdmin = admin;
}

// A path change without a reload, which main.tsx follows (popstate).
export function navigate(url: string) {
  window.history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function currentPage(pathname = location.pathname): NavPage | undefined {
  return pages.find((p) => (p.matches ? p.matches(pathname) : p.path === pathname));
}

export function TopBar({
  email,
  onLogout,
  onAdmin,
  children,
}: {
  // The page is found from the location; `current` is accepted for callers that name theirs.
  current?: string;
  email: string;
  onLogout: () => void;
  onAdmin?: (() => void) | undefined; // shown to admins: the admin page
  children?: ComponentChildren;
}) {
  const here = currentPage();
  return (
    <header class="topbar">
      <span class="brand">stackhouse</span>
      <nav class="nav" aria-label="Pages" data-testid="nav">
        {pages.map((p) => (
          <a key={p.path} href={p.path} data-testid={`nav-${p.label.toLowerCase()}`} class={p === here ? 'active' : ''} aria-current={p === here ? 'page' : undefined}>
            {p.label}
          </a>
        ))}
      </nav>
      {children}
      <span class="spacer" />
      {email && (
        <>
          <span class="who" title={email}>
            {email}
          </span>
          {onAdmin ? (
            <button type="button" class="btn subtle" data-testid="nav-admin" onClick={onAdmin}>
              Admin
            </button>
          ) : (
            navAdmin && (
              <a class={`btn subtle${location.pathname === '/admin' ? ' active' : ''}`} href="/admin" data-testid="nav-admin">
                Admin
              </a>
            )
          )}
          <button type="button" class="btn subtle" data-testid="logout" onClick={onLogout}>
            Log out
          </button>
        </>
      )}
    </header>
  );
}
