// Alerts: the list with each alert's state (/alerts), a form to create one, and an alert's page
// (/alerts/<id>): its definition, its state per group, silence, disable, the history of its
// evaluations and every message with each delivery attempt.
import { useEffect, useState } from 'preact/hooks';

import { createAlert, deleteAlert, enableAlert, getAlert, listAlerts, silenceAlert } from './libraryApi';
import type { Alert, AlertBody, AlertDetail, AlertState, Source, ThresholdOp } from './libraryApi';
import { TopBar, navigate } from './Nav';
import { formatTime } from './time';
import './library.css';

const windows = ['1m', '5m', '15m', '30m', '1h', '6h', '12h', '1d'];

function errorText(e: unknown) {
  return e instanceof Error ? e.message : String(e);
}

export function StateBadge({ state, silenced }: { state: AlertState; silenced?: boolean }) {
  return (
    <span class={`state state-${state.toLowerCase()}`} data-testid="alert-state">
      {state === 'INSUFFICIENT_DATA' ? 'NO DATA' : state}
      {silenced ? ' · silenced' : ''}
    </span>
  );
}

function describe(a: Alert): string {
  const t = a.threshold;
  const cmp = t.op === 'between' ? `between ${t.value} and ${t.value2}` : `${t.op === 'above' ? '≥' : '<'} ${t.value}`;
  const what = a.kind === 'search' ? `count of ${a.source === 'traces' ? 'spans' : 'logs'} matching ${a.query ? `“${a.query}”` : 'everything'}${a.groupBy ? ` by ${String(a.groupBy)}` : ''}` : `${a.aggregation ? `${a.aggregation} of ` : ''}${a.metric ?? ''}`;
  const n = a.consecutiveWindows ?? 1;
  return `${what} ${cmp} per ${a.window}${n > 1 ? `, ${n} windows in a row` : ''}`;
}

export function AlertList({ email, onLogout }: { email: string; onLogout: () => void }) {
  const [items, setItems] = useState<Alert[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    listAlerts().then(setItems).catch((e: unknown) => setError(errorText(e)));
  }, []);
  return (
    <div class="page library-page">
      <TopBar email={email} onLogout={onLogout} current="alerts" />
      <div class="library-body">
        <div class="library-head">
          <h1>Alerts</h1>
          <span class="spacer" />
          <button type="button" class="btn primary" data-testid="new-alert" onClick={() => setCreating(!creating)}>
            {creating ? 'Cancel' : 'New alert'}
          </button>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {creating && <AlertForm onCreated={(a) => navigate(`/alerts/${a.id}`)} />}
        {items === null ? (
          <p class="muted">Loading…</p>
        ) : items.length === 0 ? (
          <p class="muted">No alerts yet.</p>
        ) : (
          <table class="library-table">
            <thead>
              <tr>
                <th>State</th>
                <th>Name</th>
                <th>Condition</th>
                <th>Channel</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id} data-testid="alert-row">
                  <td>
                    <StateBadge state={a.state} silenced={a.silenced} />
                  </td>
                  <td>
                    <a href={`/alerts/${a.id}`} onClick={(e) => { e.preventDefault(); navigate(`/alerts/${a.id}`); }}>
                      {a.name}
                    </a>
                  </td>
                  <td>{describe(a)}</td>
                  <td>
                    {a.channel.type} <span class="muted">{a.channel.url}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function AlertForm({ onCreated }: { onCreated: (a: Alert) => void }) {
  const [kind, setKind] = useState<'search' | 'chart'>('search');
  const [name, setName] = useState('');
  const [source, setSource] = useState<Source>('logs');
  const [query, setQuery] = useState('');
  const [groupBy, setGroupBy] = useState('');
  const [metric, setMetric] = useState('');
  const [aggregation, setAggregation] = useState('');
  const [window, setWindow] = useState('5m');
  const [op, setOp] = useState<ThresholdOp>('above');
  const [value, setValue] = useState('1');
  const [value2, setValue2] = useState('');
  const [consecutive, setConsecutive] = useState('1');
  const [channelType, setChannelType] = useState<'webhook' | 'slack'>('webhook');
  const [url, setUrl] = useState('');
  const [template, setTemplate] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    const body: AlertBody = {
      name,
      kind,
      window,
      threshold: { op, value: Number(value), ...(op === 'between' ? { value2: Number(value2) } : {}) },
      consecutiveWindows: Number(consecutive),
      channel: { type: channelType, url, ...(channelType === 'webhook' && template.trim() ? { template } : {}) },
      ...(kind === 'search' ? { source, query, groupBy } : { metric, aggregation: aggregation || undefined }),
    };
    try {
      onCreated(await createAlert(body));
    } catch (e) {
      setError(errorText(e));
    }
  };
  const text = (label: string, v: string, set: (s: string) => void, testid: string, placeholder = '') => (
    <label class="field">
      <span>{label}</span>
      <input value={v} placeholder={placeholder} data-testid={testid} onInput={(e) => set((e.target as HTMLInputElement).value)} />
    </label>
  );
  return (
    <form
      class="alert-form"
      data-testid="alert-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {text('Name', name, setName, 'alert-name', 'Checkout errors')}
      <label class="field">
        <span>Kind</span>
        <select value={kind} data-testid="alert-kind" onChange={(e) => setKind((e.target as HTMLSelectElement).value as 'search' | 'chart')}>
          <option value="search">search (count)</option>
          <option value="chart">chart (metric)</option>
        </select>
      </label>
      {kind === 'search' ? (
        <>
          <label class="field">
            <span>Source</span>
            <select value={source} onChange={(e) => setSource((e.target as HTMLSelectElement).value as Source)}>
              <option value="logs">logs</option>
              <option value="traces">spans</option>
            </select>
          </label>
          {text('Query', query, setQuery, 'alert-query', 'level:error service:checkout')}
          {text('Group by (optional)', groupBy, setGroupBy, 'alert-groupby', 'service')}
        </>
      ) : (
        <>
          {text('Metric', metric, setMetric, 'alert-metric', 'http.server.duration')}
          {text('Aggregation (optional)', aggregation, setAggregation, 'alert-aggregation', 'p99')}
        </>
      )}
      <label class="field">
        <span>Window</span>
        <select value={window} data-testid="alert-window" onChange={(e) => setWindow((e.target as HTMLSelectElement).value)}>
          {windows.map((w) => (
            <option key={w} value={w}>
              {w}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Threshold</span>
        <span class="inline">
          <select value={op} data-testid="alert-op" onChange={(e) => setOp((e.target as HTMLSelectElement).value as ThresholdOp)}>
            <option value="above">at or above</option>
            <option value="below">below</option>
            <option value="between">between</option>
          </select>
          <input class="num" value={value} data-testid="alert-value" onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
          {op === 'between' && <input class="num" value={value2} aria-label="and" onInput={(e) => setValue2((e.target as HTMLInputElement).value)} />}
        </span>
      </label>
      {text('Consecutive windows', consecutive, setConsecutive, 'alert-consecutive')}
      <label class="field">
        <span>Channel</span>
        <select value={channelType} data-testid="alert-channel" onChange={(e) => setChannelType((e.target as HTMLSelectElement).value as 'webhook' | 'slack')}>
          <option value="webhook">webhook (JSON)</option>
          <option value="slack">Slack incoming webhook</option>
        </select>
      </label>
      {text('Webhook URL', url, setUrl, 'alert-url', 'https://hooks.example.com/…')}
      {channelType === 'webhook' && (
        <label class="field wide">
          <span>Body template (optional; {'{{title}} {{body}} {{link}} {{value}} {{group}}'} …)</span>
          <textarea rows={3} value={template} data-testid="alert-template" onInput={(e) => setTemplate((e.target as HTMLTextAreaElement).value)} />
        </label>
      )}
      {error && (
        <p class="error wide" role="alert" data-testid="alert-error">
          {error}
        </p>
      )}
      <div class="wide">
        <button type="submit" class="btn primary" data-testid="create-alert">
          Create alert
        </button>
      </div>
    </form>
  );
}

export function AlertView({ id, email, onLogout }: { id: number; email: string; onLogout: () => void }) {
  const [a, setA] = useState<AlertDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    getAlert(id).then(setA).catch((e: unknown) => setError(errorText(e)));
  }, [id, tick]);
  // The state changes on the server: look again every 5 s.
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      setTick(tick + 1);
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <div class="page library-page">
      <TopBar email={email} onLogout={onLogout} current="alerts" />
      <div class="library-body">
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {!a ? (
          <p class="muted">Loading…</p>
        ) : (
          <>
            <div class="library-head">
              <h1 data-testid="alert-title">{a.name}</h1>
              <StateBadge state={a.state} silenced={a.silenced} />
              <span class="spacer" />
              {a.silenced ? (
                <button type="button" class="btn" onClick={() => void act(() => silenceAlert(id, null))}>
                  Unsilence
                </button>
              ) : (
                <button type="button" class="btn" data-testid="silence" onClick={() => void act(() => silenceAlert(id, Date.now() + 3600e3))}>
                  Silence 1h
                </button>
              )}
              <button type="button" class="btn" data-testid="toggle-enabled" onClick={() => void act(() => enableAlert(id, !a.enabled))}>
                {a.enabled ? 'Disable' : 'Enable'}
              </button>
              <button
                type="button"
                class="btn subtle"
                onClick={() => {
                  if (confirm(`Delete the alert "${a.name}"?`)) void deleteAlert(id).then(() => navigate('/alerts'));
                }}
              >
                Delete
              </button>
            </div>
            <p class="alert-summary">{describe(a)}</p>
            <p class="muted small">
              {a.channel.type} → {a.channel.url}
              {a.silencedUntil ? ` · silenced until ${formatTime(a.silencedUntil, 'local', false)}` : ''}
              {a.lastWindowEnd ? ` · last window ended ${formatTime(a.lastWindowEnd, 'local', false)}` : ''}
              {a.lastError ? ` · last error: ${a.lastError}` : ''}
            </p>
            {a.groups.length > 0 && (
              <section>
                <h2>Groups</h2>
                <table class="library-table compact">
                  <thead>
                    <tr>
                      <th>Group</th>
                      <th>State</th>
                      <th class="num">Value</th>
                      <th class="num">Breaching windows</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.groups.map((g) => (
                      <tr key={g.group}>
                        <td>{g.group || '(all)'}</td>
                        <td>
                          <StateBadge state={g.alerting ? 'ALERT' : 'OK'} />
                        </td>
                        <td class="num">{g.value}</td>
                        <td class="num">{g.streak}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            )}
            <section>
              <h2>Messages</h2>
              {a.deliveries.length === 0 ? (
                <p class="muted">None sent yet.</p>
              ) : (
                <table class="library-table compact" data-testid="deliveries">
                  <thead>
                    <tr>
                      <th>When</th>
                      <th>Event</th>
                      <th>Group</th>
                      <th>Status</th>
                      <th>Attempts</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.deliveries.map((d) => (
                      <tr key={d.id} data-testid="delivery-row">
                        <td class="nowrap">{formatTime(d.createdAt, 'local', false)}</td>
                        <td>{d.event}</td>
                        <td>{d.group || '(all)'}</td>
                        <td class={`delivery-${d.status}`}>{d.status}</td>
                        <td>
                          {[...d.attemptLog].reverse().map((t) => (
                            <div key={t.attempt} class="attempt">
                              #{t.attempt} {formatTime(t.at, 'local', false).slice(11)} {t.outcome}
                              {t.httpStatus ? ` (HTTP ${t.httpStatus})` : ''}
                              {t.message && t.outcome !== 'delivered' && t.message !== `HTTP ${t.httpStatus}` ? ` — ${t.message}` : ''} · {t.durationMs} ms
                            </div>
                          ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <section>
              <h2>History</h2>
              {a.history.length === 0 ? (
                <p class="muted">Not evaluated yet.</p>
              ) : (
                <table class="library-table compact" data-testid="history">
                  <thead>
                    <tr>
                      <th>Window</th>
                      <th>Group</th>
                      <th class="num">Value</th>
                      <th>State</th>
                      <th>Note</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.history.map((h, i) => (
                      <tr key={i} data-testid="history-row">
                        <td class="nowrap">
                          {formatTime(h.windowStart, 'local', false).slice(5, 16)} – {formatTime(h.windowEnd, 'local', false).slice(11, 16)}
                        </td>
                        <td>{h.group || '(all)'}</td>
                        <td class="num">{h.value === null ? '–' : h.value}</td>
                        <td>
                          <StateBadge state={h.state} />
                        </td>
                        <td class="muted">{h.error}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </>
        )}
      </div>
    </div>
  );
}
