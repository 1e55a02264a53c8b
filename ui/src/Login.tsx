// The login page, and the password change a seeded or temporary password must go through first.
import { useState } from 'preact/hooks';

import { ApiError, changePassword, login } from './api';
import type { User } from './api';

export function Login({ notice, onLogin }: { notice?: string | undefined; onLogin: (u: User) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="auth-page">
      <form
        class="card"
        data-testid="login-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            onLogin(await login(email.trim(), password));
          } catch (err) {
            if (err instanceof ApiError && err.status === 401) setError('Wrong email or password.');
            else if (err instanceof ApiError && err.status === 429)
              setError(`Too many attempts: try again in ${err.retryAfterSeconds ?? 'a few'} seconds.`);
            else setError(err instanceof Error ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1 class="brand">stackhouse</h1>
        <p class="muted">Log in to search logs.</p>
        {notice && !error && <p class="notice">{notice}</p>}
        <label>
          Email
          <input type="email" name="email" autocomplete="username" required autofocus value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} data-testid="email" />
        </label>
        <label>
          Password
          <input type="password" name="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} data-testid="password" />
        </label>
        {error && (
          <p class="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" class="btn primary wide" disabled={busy} data-testid="login">
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </div>
  );
}

export function ChangePassword({ email, onChanged }: { email: string; onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="auth-page">
      <form
        class="card"
        data-testid="password-form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (next !== again) {
            setError('The two new passwords differ.');
            return;
          }
          setBusy(true);
          setError(null);
          try {
            await changePassword(current, next);
            onChanged();
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1 class="brand">stackhouse</h1>
        <h2>Choose a new password</h2>
        <p class="muted">
          The password of <strong>{email}</strong> was set for you; choose your own before going on.
        </p>
        <label>
          Current password
          <input type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent((e.target as HTMLInputElement).value)} data-testid="current-password" />
        </label>
        <label>
          New password
          <input type="password" autocomplete="new-password" required minLength={12} value={next} onInput={(e) => setNext((e.target as HTMLInputElement).value)} data-testid="new-password" />
        </label>
        <label>
          New password again
          <input type="password" autocomplete="new-password" required minLength={12} value={again} onInput={(e) => setAgain((e.target as HTMLInputElement).value)} data-testid="new-password-again" />
        </label>
        <p class="muted small">At least 12 characters.</p>
        {error && (
          <p class="error" role="alert" data-testid="password-error">
            {error}
          </p>
        )}
        <button type="submit" class="btn primary wide" disabled={busy} data-testid="change-password">
          {busy ? 'Saving…' : 'Save and continue'}
        </button>
      </form>
    </div>
  );
}
