// Administration, for admins: the users (invite with a temporary password shown once, end their
// sessions, delete) and the API keys (create with the key shown once, revoke). Every change asks
// for a confirmation in place and reloads the lists from the server.
import { useEffect, useState } from 'preact/hooks';

import { createApiKey, deleteUser, inviteUser, listApiKeys, listUsers, revokeApiKey, revokeSessions } from './api';
import type { ApiKeyEntry, UserEntry } from './api';
import { TopBar } from './Nav';
import { formatTime } from './time';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

// A secret shown this once, with a copy button.
function Secret({ title, value, note, onDone }: { title: string; value: string; note: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="secret" role="status" data-testid="secret">
      <strong>{title}</strong>
      <div class="secret-row">
        <code data-testid="secret-value">{value}</code>
        <button
          type="button"
          class="btn"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" class="btn subtle" onClick={onDone} data-testid="secret-done">
          Done
        </button>
      </div>
      <span class="muted small">{note}</span>
    </div>
  );
}

// A button that asks "Sure?" in place before it acts.
function Confirm({ label, question, onYes, testId }: { label: string; question: string; onYes: () => void; testId: string }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="btn" onClick={() => setAsking(true)} data-testid={testId}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <span>{question}</span>
      <button
        type="button"
        class="btn danger"
        onClick={() => {
          setAsking(false);
          onYes();
        }}
        data-testid={`${testId}-yes`}
      >
        Yes, {label.toLowerCase()}
      </button>
      <button type="button" class="btn subtle" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function AdminPage({ email, onLogout }: { email: string; onLogout: () => void }) {
  const [users, setUsers] = useState<UserEntry[] | null>(null);
  const [keys, setKeys] = useState<ApiKeyEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ title: string; value: string; note: string } | null>(null);
  const [inviteEmail, setInviteEmail] = useState('');
  const [inviteRole, setInviteRole] = useState<'member' | 'admin'>('member');
  const [keyName, setKeyName] = useState('');
  const [busy, setBusy] = useState(false);

  const reload = async () => {
    try {
      const [u, k] = await Promise.all([listUsers(), listApiKeys()]);
      setUsers(u);
      setKeys(k);
    } catch (e) {
      setError(message(e));
    }
  };
  useEffect(() => {
    void reload();
  }, []);

  // Runs a change, reloads the lists, then says what happened (so what it says is on screen).
  const act = async (what: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    let said: string | void = undefined;
    try {
      said = await what();
    } catch (e) {
      setError(message(e));
    }
    await reload();
    setBusy(false);
    if (said) setDone(said);
  };

  return (
    <div class="page admin-page">
      <TopBar email={email} onLogout={onLogout} />
      <main class="admin-main">
        {error && (
          <p class="error" role="alert" data-testid="admin-error">
            {error}
          </p>
        )}
        {done && (
          <p class="notice" role="status" data-testid="admin-done">
            {done}
          </p>
        )}
        {secret && <Secret {...secret} onDone={() => setSecret(null)} />}

        <section class="admin-section" aria-labelledby="users-title">
          <h2 id="users-title">Users</h2>
          <form
            class="admin-form"
            onSubmit={(e) => {
              e.preventDefault();
              const who = inviteEmail.trim();
              void act(async () => {
                const a = await inviteUser(who, inviteRole);
                setInviteEmail('');
                setSecret({
                  title: `Temporary password for ${a.user.email}`,
                  value: a.temporaryPassword,
                  note: 'Shown only now: hand it over privately. It must be changed at the first login.',
                });
              });
            }}
          >
            <label>
              E-mail
              <input
                type="email"
                required
                placeholder="someone@example.com"
                value={inviteEmail}
                onInput={(e) => setInviteEmail((e.target as HTMLInputElement).value)}
                data-testid="invite-email"
              />
            </label>
            <label>
              Role
              <select value={inviteRole} onChange={(e) => setInviteRole((e.target as HTMLSelectElement).value as 'member' | 'admin')} data-testid="invite-role">
                <option value="member">member</option>
                <option value="admin">admin</option>
              </select>
            </label>
            <button type="submit" class="btn primary" disabled={busy} data-testid="invite">
              Invite
            </button>
          </form>
          {users === null ? (
            <p class="muted">Loading…</p>
          ) : (
            <table class="admin-table" data-testid="users">
              <thead>
                <tr>
                  <th>E-mail</th>
                  <th class="col-role">Role</th>
                  <th class="col-state">State</th>
                  <th class="col-when">Created</th>
                  <th class="col-actions">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.email} data-testid="user-row">
                    <td class="col-email" title={u.email}>
                      {u.email}
                      {u.email === email && <span class="muted"> (you)</span>}
                    </td>
                    <td class="col-role">{u.role}</td>
                    <td class="col-state">{u.mustChangePassword ? <span class="pill warn">must change password</span> : <span class="pill ok">active</span>}</td>
                    <td class="col-when">{formatTime(u.createdAt, 'local', false)}</td>
                    <td class="col-actions">
                      <div class="actions">
                        <Confirm
                          label="End sessions"
                          question={`Sign ${u.email} out everywhere?`}
                          testId="end-sessions"
                          onYes={() => void act(async () => `${u.email}: ${await revokeSessions(u.email)} session(s) ended.`)}
                        />
                        {u.email !== email && (
                          <Confirm
                            label="Delete"
                            question={`Delete ${u.email} and their API keys?`}
                            testId="delete-user"
                            onYes={() =>
                              void act(async () => {
                                await deleteUser(u.email);
                                return `${u.email} deleted.`;
                              })
                            }
                          />
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section class="admin-section" aria-labelledby="keys-title">
          <h2 id="keys-title">API keys</h2>
          <p class="muted small">
            For scripts: send <code>Authorization: Bearer &lt;key&gt;</code>. A key acts with the role of its owner.
          </p>
          <form
            class="admin-form"
            onSubmit={(e) => {
              e.preventDefault();
              const name = keyName.trim();
              void act(async () => {
                const a = await createApiKey(name);
                setKeyName('');
                setSecret({ title: `API key "${a.name}"`, value: a.key, note: 'Shown only now: store it in your secret manager.' });
              });
            }}
          >
            <label>
              Name
              <input
                type="text"
                required
                maxLength={200}
                placeholder="deploy-bot"
                value={keyName}
                onInput={(e) => setKeyName((e.target as HTMLInputElement).value)}
                data-testid="key-name"
              />
            </label>
            <button type="submit" class="btn primary" disabled={busy} data-testid="create-key">
              Create key
            </button>
          </form>
          {keys === null ? (
            <p class="muted">Loading…</p>
          ) : keys.length === 0 ? (
            <p class="muted">No API keys.</p>
          ) : (
            <table class="admin-table" data-testid="keys">
              <thead>
                <tr>
                  <th>Name</th>
                  <th class="col-owner">Owner</th>
                  <th class="col-when">Created</th>
                  <th class="col-actions">Actions</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id} data-testid="key-row">
                    <td title={k.name}>{k.name}</td>
                    <td class="col-owner" title={k.owner}>
                      {k.owner || <span class="muted">stackhouse CLI</span>}
                    </td>
                    <td class="col-when">{formatTime(k.createdAt, 'local', false)}</td>
                    <td class="col-actions">
                      <div class="actions">
                        <Confirm
                          label="Revoke"
                          question={`Revoke "${k.name}"? Scripts using it stop working.`}
                          testId="revoke-key"
                          onYes={() =>
                            void act(async () => {
                              await revokeApiKey(k.id);
                              return `Key "${k.name}" revoked.`;
                            })
                          }
                        />
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </main>
    </div>
  );
}
