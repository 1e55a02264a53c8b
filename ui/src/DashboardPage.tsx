// Dashboards: the list (/dashboards), and one dashboard (/dashboards/<id>) as a 12-column grid of
// tiles — a search table, a count chart, a Markdown note, a metrics chart — under one time range
// and one filter (search language, added to every search-language tile's query). The URL holds
// the range and filter (?from=…&to=…&filter=…): copy it to share the view. Edit mode adds,
// removes, moves and resizes tiles; Save stores the dashboard (PUT), Export downloads its JSON,
// Import (on the list) creates one from such a file.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { call } from './api';
import type { Column, QueryMode } from './api';
import {
  countOverTime,
  createDashboard,
  deleteDashboard,
  exportDashboard,
  getDashboard,
  importDashboard,
  listDashboards,
  saveDashboard,
} from './libraryApi';
import type { Dashboard, DashboardBody, MetricDisplay, Source, Tile, TileKind } from './libraryApi';
import { Markdown } from './Markdown';
import { MetricTile } from './MetricTile';
import { TopBar, navigate } from './Nav';
import { cell, text, toRows } from './rows';
import { TimeChart } from './TimeChart';
import { formatTime, resolveTime } from './time';
import './library.css';

const gridColumns = 12;

function errorText(e: unknown) {
  return e instanceof Error ? e.message : String(e);
}

function bodyOf(d: DashboardBody): DashboardBody {
  return { name: d.name, shared: d.shared, timeRange: d.timeRange, filter: d.filter, tiles: d.tiles };
}

function combine(filter: string, query: string, mode: QueryMode): string {
  if (mode === 'sql' || !filter.trim()) return query;
  if (!query.trim()) return filter;
  return `(${filter}) AND (${query})`;
}

export function DashboardList({ email, onLogout }: { email: string; onLogout: () => void }) {
  const [items, setItems] = useState<Dashboard[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    listDashboards().then(setItems).catch((e: unknown) => setError(errorText(e)));
  }, []);
  const create = async () => {
    try {
      const d = await createDashboard({ name: 'New dashboard', timeRange: { from: '1h ago', to: 'now' }, filter: '', tiles: [] });
      navigate(`/dashboards/${d.id}?edit=1`);
    } catch (e) {
      setError(errorText(e));
    }
  };
  const onImport = async (file: File | undefined) => {
    if (!file) return;
    try {
      const d = await importDashboard(JSON.parse(await file.text()));
      navigate(`/dashboards/${d.id}`);
    } catch (e) {
      setError(`Import failed: ${errorText(e)}`);
    }
  };
  return (
    <div class="page library-page">
      <TopBar email={email} onLogout={onLogout} current="dashboards" />
      <div class="library-body">
        <div class="library-head">
          <h1>Dashboards</h1>
          <span class="spacer" />
          <label class="btn">
            Import…
            <input type="file" accept="application/json,.json" class="visually-hidden" data-testid="import-dashboard" onChange={(e) => void onImport((e.target as HTMLInputElement).files?.[0])} />
          </label>
          <button type="button" class="btn primary" data-testid="new-dashboard" onClick={() => void create()}>
            New dashboard
          </button>
        </div>
        {error && (
          <p class="error" role="alert" data-testid="error">
            {error}
          </p>
        )}
        {items === null ? (
          <p class="muted">Loading…</p>
        ) : items.length === 0 ? (
          <p class="muted">No dashboards yet.</p>
        ) : (
          <table class="library-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Tiles</th>
                <th>Owner</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-testid="dashboard-row">
                  <td>
                    <a href={`/dashboards/${d.id}`} onClick={(e) => { e.preventDefault(); navigate(`/dashboards/${d.id}`); }}>
                      {d.name}
                    </a>
                    {d.shared && <span class="lib-badge">shared</span>}
                  </td>
                  <td>{d.tiles.length}</td>
                  <td>{d.owner || 'stackhouse'}</td>
                  <td>{formatTime(d.updatedAt, 'local', false)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

// Range and filter as the URL says, or the dashboard's own.
function viewState(d: Dashboard) {
  const p = new URLSearchParams(location.search);
  return { from: p.get('from') ?? d.timeRange.from, to: p.get('to') ?? d.timeRange.to, filter: p.get('filter') ?? d.filter };
}

function newTile(kind: TileKind, tiles: Tile[]): Tile {
  const y = tiles.reduce((m, t) => Math.max(m, t.y + t.h), 0);
  let n = tiles.length + 1;
  while (tiles.some((t) => t.id === `t${n}`)) n++;
  const base = { id: `t${n}`, title: '', x: 0, y, w: 6, h: 4 };
  switch (kind) {
    case 'search':
      return { ...base, kind, title: 'Logs', w: 12, h: 6, search: { source: 'logs', query: '', mode: 'search', columns: ['Timestamp', 'ServiceName', 'SeverityText', 'Body'] } };
    case 'count':
      return { ...base, kind, title: 'Matching logs', count: { source: 'logs', query: '', mode: 'search' } };
    case 'markdown':
      return { ...base, kind, title: 'Note', h: 3, markdown: { text: '' } };
    case 'metric':
      return { ...base, kind, title: 'Metric', metric: { metric: '', display: 'line' } };
  }
}

export function DashboardView({ id, email, onLogout }: { id: number; email: string; onLogout: () => void }) {
  const [saved, setSaved] = useState<Dashboard | null>(null);
  const [draft, setDraft] = useState<Dashboard | null>(null);
  const [view, setView] = useState({ from: '1h ago', to: 'now', filter: '' });
  const [fromText, setFromText] = useState('1h ago');
  const [toText, setToText] = useState('now');
  const [filterText, setFilterText] = useState('');
  const [editing, setEditing] = useState(() => new URLSearchParams(location.search).get('edit') === '1');
  const [editTile, setEditTile] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    // ?edit=1 (a new dashboard) opens the editor once; a reload shows the dashboard.
    const p = new URLSearchParams(location.search);
    if (p.has('edit')) {
      p.delete('edit');
      const q = p.toString();
      window.history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}`);
    }
    getDashboard(id)
      .then((d) => {
        setSaved(d);
        setDraft(d);
        const v = viewState(d);
        setView(v);
        setFromText(v.from);
        setToText(v.to);
        setFilterText(v.filter);
      })
      .catch((e: unknown) => setError(errorText(e)));
  }, [id]);

  const range = useMemo(() => {
    const now = Date.now();
    const from = resolveTime(view.from, 'local', now);
    const to = resolveTime(view.to, 'local', now);
    return from !== null && to !== null && from < to ? { from, to } : null;
  }, [view, generation]);

  if (error && !draft) {
    return (
      <div class="page library-page">
        <TopBar email={email} onLogout={onLogout} current="dashboards" />
        <p class="error library-body" role="alert">
          {error}
        </p>
      </div>
    );
  }
  if (!draft || !saved) return <div class="center muted">Loading…</div>;

  const dirty = JSON.stringify(bodyOf(draft)) !== JSON.stringify(bodyOf(saved));
  const setTiles = (tiles: Tile[]) => setDraft({ ...draft, tiles });
  const updateTile = (tileId: string, f: (t: Tile) => Tile) => setTiles(draft.tiles.map((t) => (t.id === tileId ? f(t) : t)));
  const applyView = () => {
    const v = { from: fromText, to: toText, filter: filterText };
    setView(v);
    setGeneration(generation + 1);
    const p = new URLSearchParams();
    p.set('from', v.from);
    p.set('to', v.to);
    if (v.filter) p.set('filter', v.filter);
    window.history.replaceState(null, '', `${location.pathname}?${p.toString()}`);
  };
  const save = async () => {
    try {
      // The view becomes the dashboard's own range and filter.
      const body = { ...bodyOf(draft), timeRange: { from: view.from, to: view.to }, filter: view.filter };
      const d = await saveDashboard(id, body);
      setSaved(d);
      setDraft(d);
      setError(null);
      setNotice('Saved.');
      setTimeout(() => setNotice(null), 2000);
    } catch (e) {
      setError(`Not saved: ${errorText(e)}`);
    }
  };
  const download = async () => {
    try {
      const doc = await exportDashboard(id);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
      a.download = `${draft.name.replace(/[^\w.-]+/g, '-') || 'dashboard'}.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (e) {
      setError(errorText(e));
    }
  };
  const remove = async () => {
    if (!confirm(`Delete the dashboard "${draft.name}"?`)) return;
    try {
      await deleteDashboard(id);
      navigate('/dashboards');
    } catch (e) {
      setError(errorText(e));
    }
  };
  const rows = Math.max(4, ...draft.tiles.map((t) => t.y + t.h));
  const editing1 = draft.tiles.find((t) => t.id === editTile) ?? null;

  return (
    <div class="page library-page dashboard-page">
      <TopBar email={email} onLogout={onLogout} current="dashboards" />
      <div class="dash-bar">
        {editing ? (
          <input class="dash-name" aria-label="Dashboard name" data-testid="dashboard-name" value={draft.name} onInput={(e) => setDraft({ ...draft, name: (e.target as HTMLInputElement).value })} />
        ) : (
          <h1 class="dash-title" data-testid="dashboard-title">
            {draft.name}
          </h1>
        )}
        <form
          class="dash-view"
          onSubmit={(e) => {
            e.preventDefault();
            applyView();
          }}
        >
          <input aria-label="Filter" class="dash-filter" placeholder="Filter every tile: service:checkout" data-testid="dashboard-filter" value={filterText} onInput={(e) => setFilterText((e.target as HTMLInputElement).value)} />
          <input aria-label="From" class="dash-time" data-testid="dashboard-from" value={fromText} onInput={(e) => setFromText((e.target as HTMLInputElement).value)} />
          <span class="muted">to</span>
          <input aria-label="To" class="dash-time" data-testid="dashboard-to" value={toText} onInput={(e) => setToText((e.target as HTMLInputElement).value)} />
          <button type="submit" class="btn" data-testid="dashboard-apply">
            Apply
          </button>
        </form>
        <span class="spacer" />
        {notice && (
          <span class="saved-note" role="status" data-testid="notice">
            {notice}
          </span>
        )}
        {editing ? (
          <>
            <select
              class="btn"
              aria-label="Add a tile"
              data-testid="add-tile"
              value=""
              onChange={(e) => {
                const kind = (e.target as HTMLSelectElement).value as TileKind;
                if (!kind) return;
                const t = newTile(kind, draft.tiles);
                setTiles([...draft.tiles, t]);
                setEditTile(t.id);
              }}
            >
              <option value="">Add tile…</option>
              <option value="search">Search table</option>
              <option value="count">Count chart</option>
              <option value="metric">Metric chart</option>
              <option value="markdown">Note</option>
            </select>
            <label class="btn subtle">
              <input type="checkbox" checked={!!draft.shared} disabled={!saved.deletable} onChange={(e) => setDraft({ ...draft, shared: (e.target as HTMLInputElement).checked })} /> shared
            </label>
            <button type="button" class="btn primary" data-testid="save-dashboard" disabled={!dirty && saved.timeRange.from === view.from && saved.timeRange.to === view.to && saved.filter === view.filter} onClick={() => void save()}>
              Save
            </button>
            <button type="button" class="btn" onClick={() => { setEditing(false); setEditTile(null); }}>
              Done
            </button>
          </>
        ) : (
          <>
            <button type="button" class="btn" data-testid="edit-dashboard" disabled={!saved.editable} onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" class="btn" data-testid="export-dashboard" onClick={() => void download()}>
              Export
            </button>
            {saved.deletable && (
              <button type="button" class="btn subtle" onClick={() => void remove()}>
                Delete
              </button>
            )}
          </>
        )}
      </div>
      {error && (
        <p class="error dash-error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      <div class="dash-scroll">
        {draft.tiles.length === 0 && <p class="muted dash-empty">No tiles yet: Edit, then Add tile.</p>}
        <div class="dash-grid" style={{ gridTemplateRows: `repeat(${rows}, 64px)` }} data-testid="dashboard-grid">
          {draft.tiles.map((t) => (
            <section
              key={t.id}
              class={`tile tile-${t.kind}`}
              style={{ gridColumn: `${t.x + 1} / span ${t.w}`, gridRow: `${t.y + 1} / span ${t.h}` }}
              data-testid="tile"
              data-kind={t.kind}
            >
              <header class="tile-head">
                <span class="tile-title">{t.title || ' '}</span>
                {editing && <TileControls onChange={(f) => updateTile(t.id, f)} onEdit={() => setEditTile(t.id)} onRemove={() => setTiles(draft.tiles.filter((x) => x.id !== t.id))} />}
              </header>
              <div class="tile-body">{range ? <TileBody tile={t} filter={view.filter} from={range.from} to={range.to} generation={generation} /> : <p class="tile-message error">The time range is not valid.</p>}</div>
            </section>
          ))}
        </div>
      </div>
      {editing1 && <TileEditor tile={editing1} onChange={(t) => updateTile(editing1.id, () => t)} onClose={() => setEditTile(null)} />}
    </div>
  );
}

function TileControls({ onChange, onEdit, onRemove }: { onChange: (f: (t: Tile) => Tile) => void; onEdit: () => void; onRemove: () => void }) {
  const clampX = (t: Tile, x: number) => Math.max(0, Math.min(gridColumns - t.w, x));
  return (
    <span class="tile-tools" role="group" aria-label="Tile layout">
      <button type="button" class="btn tiny" title="Move left" aria-label="Move left" onClick={() => onChange((t) => ({ ...t, x: clampX(t, t.x - 1) }))}>←</button>
      <button type="button" class="btn tiny" title="Move right" aria-label="Move right" data-testid="move-right" onClick={() => onChange((t) => ({ ...t, x: clampX(t, t.x + 1) }))}>→</button>
      <button type="button" class="btn tiny" title="Move up" aria-label="Move up" onClick={() => onChange((t) => ({ ...t, y: Math.max(0, t.y - 1) }))}>↑</button>
      <button type="button" class="btn tiny" title="Move down" aria-label="Move down" onClick={() => onChange((t) => ({ ...t, y: t.y + 1 }))}>↓</button>
      <button type="button" class="btn tiny" title="Narrower" aria-label="Narrower" data-testid="narrower" onClick={() => onChange((t) => ({ ...t, w: Math.max(1, t.w - 1) }))}>−w</button>
      <button type="button" class="btn tiny" title="Wider" aria-label="Wider" onClick={() => onChange((t) => ({ ...t, w: Math.min(gridColumns - t.x, t.w + 1) }))}>+w</button>
      <button type="button" class="btn tiny" title="Shorter" aria-label="Shorter" onClick={() => onChange((t) => ({ ...t, h: Math.max(1, t.h - 1) }))}>−h</button>
      <button type="button" class="btn tiny" title="Taller" aria-label="Taller" data-testid="taller" onClick={() => onChange((t) => ({ ...t, h: Math.min(24, t.h + 1) }))}>+h</button>
      <button type="button" class="btn tiny" title="Edit tile" aria-label="Edit tile" data-testid="edit-tile" onClick={onEdit}>✎</button>
      <button type="button" class="btn tiny" title="Remove tile" aria-label="Remove tile" data-testid="remove-tile" onClick={onRemove}>✕</button>
    </span>
  );
}

function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
    </label>
  );
}

function TileEditor({ tile, onChange, onClose }: { tile: Tile; onChange: (t: Tile) => void; onClose: () => void }) {
  const input = (value: string, set: (v: string) => void, testid: string, placeholder = '') => (
    <input value={value} placeholder={placeholder} data-testid={testid} onInput={(e) => set((e.target as HTMLInputElement).value)} />
  );
  const sourceSelect = (value: Source, set: (v: Source) => void) => (
    <select value={value} data-testid="tile-source" onChange={(e) => set((e.target as HTMLSelectElement).value as Source)}>
      <option value="logs">logs</option>
      <option value="traces">spans</option>
    </select>
  );
  let fields: ComponentChildren = null;
  if (tile.kind === 'search') {
    const c = tile.search;
    const set = (p: Partial<typeof c>) => onChange({ ...tile, search: { ...c, ...p } });
    fields = (
      <>
        <Field label="Source">{sourceSelect(c.source, (source) => set({ source }))}</Field>
        <Field label="Query">{input(c.query, (query) => set({ query }), 'tile-query', 'level:error service:api')}</Field>
        <Field label="Columns (comma-separated)">{input(c.columns.join(', '), (v) => set({ columns: v.split(',').map((x) => x.trim()).filter(Boolean) }), 'tile-columns')}</Field>
      </>
    );
  } else if (tile.kind === 'count') {
    const c = tile.count;
    const set = (p: Partial<typeof c>) => onChange({ ...tile, count: { ...c, ...p } });
    fields = (
      <>
        <Field label="Source">{sourceSelect(c.source, (source) => set({ source }))}</Field>
        <Field label="Query">{input(c.query, (query) => set({ query }), 'tile-query', 'level:error')}</Field>
      </>
    );
  } else if (tile.kind === 'markdown') {
    fields = (
      <Field label="Text (Markdown)">
        <textarea rows={8} value={tile.markdown.text} data-testid="tile-text" onInput={(e) => onChange({ ...tile, markdown: { text: (e.target as HTMLTextAreaElement).value } })} />
      </Field>
    );
  } else {
    const c = tile.metric;
    const set = (p: Partial<typeof c>) => onChange({ ...tile, metric: { ...c, ...p } });
    fields = (
      <>
        <Field label="Metric">{input(c.metric, (metric) => set({ metric }), 'tile-metric', 'http.server.duration')}</Field>
        <Field label="Aggregation (empty: by type)">{input(c.aggregation ?? '', (v) => set({ aggregation: v || undefined }), 'tile-aggregation', 'rate, avg, p99 …')}</Field>
        <Field label="Where (attributes)">{input(c.where ?? '', (v) => set({ where: v || undefined }), 'tile-where', 'service.name:api')}</Field>
        <Field label="Group by (up to 3, comma-separated)">
          {input((c.groupBy ?? []).join(', '), (v) => {
            const g = v.split(',').map((x) => x.trim()).filter(Boolean).slice(0, 3);
            set({ groupBy: g.length ? g : undefined });
          }, 'tile-groupby')}
        </Field>
        <Field label="Display">
          <select value={c.display} data-testid="tile-display" onChange={(e) => set({ display: (e.target as HTMLSelectElement).value as MetricDisplay })}>
            <option value="line">line</option>
            <option value="bar">bar</option>
            <option value="number">number</option>
            <option value="table">table</option>
          </select>
        </Field>
      </>
    );
  }
  return (
    <aside class="tile-editor" aria-label="Edit tile" data-testid="tile-editor">
      <header>
        <strong>Edit {tile.kind === 'markdown' ? 'note' : `${tile.kind} tile`}</strong>
        <span class="spacer" />
        <button type="button" class="btn tiny" data-testid="close-editor" onClick={onClose}>
          Done
        </button>
      </header>
      <Field label="Title">{input(tile.title, (title) => onChange({ ...tile, title }), 'tile-title')}</Field>
      {fields}
    </aside>
  );
}

function TileBody({ tile, filter, from, to, generation }: { tile: Tile; filter: string; from: number; to: number; generation: number }) {
  switch (tile.kind) {
    case 'markdown':
      return <Markdown text={tile.markdown.text} />;
    case 'metric':
      return tile.metric.metric ? <MetricTile config={tile.metric} filter={filter} from={from} to={to} tz="local" generation={generation} /> : <p class="tile-message muted">Choose a metric (✎).</p>;
    case 'count':
      return <CountTile source={tile.count.source} query={combine(filter, tile.count.query, tile.count.mode)} mode={tile.count.mode} from={from} to={to} generation={generation} />;
    case 'search':
      return <SearchTile source={tile.search.source} query={combine(filter, tile.search.query, tile.search.mode)} mode={tile.search.mode} columns={tile.search.columns} from={from} to={to} generation={generation} />;
  }
}

function CountTile({ source, query, mode, from, to, generation }: { source: Source; query: string; mode: QueryMode; from: number; to: number; generation: number }) {
  const [data, setData] = useState<{ xs: number[]; series: { label: string; values: number[] }[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    countOverTime({ source, query, mode, from, to, buckets: 40 }, ctl.signal)
      .then((r) => setData({ xs: r.buckets.map((b) => b.start), series: [{ label: 'count', values: r.buckets.map((b) => b.count) }], total: r.total }))
      .catch((e: unknown) => !ctl.signal.aborted && setError(errorText(e)));
    return () => ctl.abort();
  }, [source, query, mode, from, to, generation]);
  if (error) return <p class="tile-message error">{error}</p>;
  if (!data) return <p class="tile-message muted">Counting…</p>;
  return (
    <div class="tile-count">
      <span class="tile-total" data-testid="tile-total">
        {data.total.toLocaleString('en-US')} {source === 'traces' ? 'spans' : 'logs'}
      </span>
      <TimeChart xs={data.xs} series={data.series} bars counts from={from} to={to} tz="local" />
    </div>
  );
}

function SearchTile({ source, query, mode, columns, from, to, generation }: { source: Source; query: string; mode: QueryMode; columns: string[]; from: number; to: number; generation: number }) {
  const [rows, setRows] = useState<Record<string, unknown>[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    call<{ columns: Column[] | string[]; rows: unknown[][] }>('POST', '/api/v1/search', { source, query, mode, from, to, limit: 50 }, ctl.signal)
      .then((a) => {
        const cols = (a.columns ?? []).map((c) => (typeof c === 'string' ? { name: c, type: '' } : c));
        setRows(toRows(cols, a.rows ?? []));
      })
      .catch((e: unknown) => !ctl.signal.aborted && setError(errorText(e)));
    return () => ctl.abort();
  }, [source, query, mode, from, to, generation]);
  if (error) return <p class="tile-message error">{error}</p>;
  if (!rows) return <p class="tile-message muted">Searching…</p>;
  if (rows.length === 0) return <p class="tile-message muted">Nothing matches in this range.</p>;
  const shown = columns.length ? columns : ['Timestamp', 'Body'];
  return (
    <div class="tile-table">
      <table>
        <thead>
          <tr>
            {shown.map((c) => (
              <th key={c}>{c === 'Timestamp' ? 'Time' : c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} data-testid="tile-row">
              {shown.map((c) => (
                <td key={c} class={c === 'Timestamp' ? 'nowrap' : ''}>
                  {c === 'Timestamp' ? text(cell(r, c)).slice(5, 23) : text(cell(r, c))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
