// A trace's waterfall (/trace/<traceId>?span=<spanId>): the span tree from ParentSpanId (a span
// whose parent is not stored is shown as a root, marked), one bar per span by start and
// duration (nanosecond times kept as BigInt, offsets exact below a microsecond), a colour per
// service, errors marked, events as marks on their span; collapsible subtrees; only the rows in
// view are rendered, so 10,000 spans scroll smoothly. Beside it: the selected span's every field,
// attribute, event and link, and the trace's logs (all, or the selected span's).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { TopBar } from './Nav';
import { severityClass } from './rows';
import { logsUrl, traceUrl } from './spanRows';
import { formatNs, getTrace, isTraceId } from './traceApi';
import type { Span, Trace, TraceLog } from './traceApi';
import { formatTime } from './time';
import type { TimeZone } from './time';
import './traces.css';

const rowHeight = 26;
const overscan = 12;

// Colours that stay apart from each other and from the error red, dark enough for white text.
const palette = ['#1565c0', '#2e7d32', '#6a1b9a', '#00838f', '#ef6c00', '#4e342e', '#ad1457', '#283593', '#558b2f', '#00695c', '#5d4037', '#37474f'];

export interface Node {
  span: Span;
  start: bigint; // epoch ns
  offsetNs: number; // from the trace's start
  durationNs: number;
  children: Node[];
  depth: number;
  missingParent: boolean; // ParentSpanId set, but no such span in the trace
  subtreeErrors: number;
}

export interface Model {
  roots: Node[];
  byId: Map<string, Node>;
  startNs: bigint;
  totalNs: number;
  errors: number;
  services: string[]; // in order of first start
}

// The tree, from spans in any order. Iterative, so a chain 10,000 deep does not overflow.
export function buildModel(spans: Span[]): Model {
  let startNs = spans.length ? BigInt(spans[0]!.startUnixNano) : 0n;
  for (const s of spans) {
    const b = BigInt(s.startUnixNano);
    if (b < startNs) startNs = b;
  }
  const byId = new Map<string, Node>();
  const nodes: Node[] = spans.map((span) => {
    const start = BigInt(span.startUnixNano);
    const n: Node = {
      span,
      start,
      offsetNs: Number(start - startNs),
      durationNs: Number(span.durationNano),
      children: [],
      depth: 0,
      missingParent: false,
      subtreeErrors: 0,
    };
    if (!byId.has(span.spanId)) byId.set(span.spanId, n);
    return n;
  });
  const roots: Node[] = [];
  let endNs = 0;
  let errors = 0;
  for (const n of nodes) {
    endNs = Math.max(endNs, n.offsetNs + n.durationNs);
    if (n.span.statusCode === 'Error') errors++;
    const parent = n.span.parentSpanId ? byId.get(n.span.parentSpanId) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else {
      n.missingParent = n.span.parentSpanId !== '';
      roots.push(n);
    }
  }
  // A cycle of parents (A's parent B, B's parent A) has no root: cut it where it is met.
  const seen = new Set<Node>();
  const byStart = (a: Node, b: Node) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
  roots.sort(byStart);
  const order: Node[] = [];
  const walk = (from: Node[]) => {
    const stack = [...from].reverse();
    for (const r of from) r.depth = 0;
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      order.push(n);
      n.children.sort(byStart);
      for (let i = n.children.length - 1; i >= 0; i--) {
        const c = n.children[i]!;
        c.depth = n.depth + 1;
        stack.push(c);
      }
    }
  };
  walk(roots);
  for (const n of nodes) {
    if (!seen.has(n)) {
      n.missingParent = true;
      roots.push(n);
      walk([n]);
    }
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    n.subtreeErrors = (n.span.statusCode === 'Error' ? 1 : 0) + n.children.reduce((s, c) => s + (seen.has(c) ? c.subtreeErrors : 0), 0);
  }
  const services: string[] = [];
  const known = new Set<string>();
  for (const n of [...nodes].sort(byStart)) {
    if (!known.has(n.span.service)) {
      known.add(n.span.service);
      services.push(n.span.service);
    }
  }
  return { roots, byId, startNs, totalNs: Math.max(endNs, 1), errors, services };
}

// The rows shown: a depth-first walk that skips collapsed subtrees.
export function visibleRows(model: Model, collapsed: Set<string>): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>();
  const stack = [...model.roots].reverse();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(n);
    if (collapsed.has(n.span.spanId)) continue;
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}

// Epoch ns text as a wall-clock time with all nine digits.
function formatNsTime(ns: bigint, tz: TimeZone): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${formatTime(ms, tz, false)}.${frac}`;
}

export function TracePage({ email, onLogout, traceId }: { email: string; onLogout: () => void; traceId: string }) {
  const [trace, setTrace] = useState<Trace | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [selectedId, setSelectedId] = useState<string | null>(() => new URLSearchParams(location.search).get('span'));
  const [tab, setTab] = useState<'span' | 'logs'>('span');
  const [onlySpanLogs, setOnlySpanLogs] = useState(false);
  const tz: TimeZone = new URLSearchParams(location.search).get('tz') === 'utc' ? 'utc' : 'local';

  useEffect(() => {
    if (!isTraceId(traceId)) {
      setError(`"${traceId}" is not a trace id: a trace id is 32 hexadecimal digits`);
      return undefined;
    }
    const ctl = new AbortController();
    setTrace(null);
    setError(null);
    const t0 = performance.now();
    getTrace(traceId, ctl.signal)
      .then((t) => {
        setTrace(t);
        requestAnimationFrame(() => performance.mark('stackhouse-trace-drawn', { detail: performance.now() - t0 }));
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctl.abort();
  }, [traceId]);

  const model = useMemo(() => (trace ? buildModel(trace.spans) : null), [trace]);
  const rows = useMemo(() => (model ? visibleRows(model, collapsed) : []), [model, collapsed]);
  const colorOf = useMemo(() => {
    const m = new Map<string, string>();
    model?.services.forEach((s, i) => m.set(s, palette[i % palette.length]!));
    return (s: string) => m.get(s) ?? palette[0]!;
  }, [model]);
  const selected = selectedId && model ? (model.byId.get(selectedId) ?? null) : null;

  const select = (id: string | null) => {
    setSelectedId(id);
    const p = new URLSearchParams(location.search);
    if (id) p.set('span', id);
    else p.delete('span');
    const q = p.toString();
    window.history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}`);
  };

  // Opening a span (from the URL or a link) expands its ancestors and scrolls it into view.
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(600);
  const timeline = useRef<HTMLDivElement>(null);
  const [timelinePx, setTimelinePx] = useState(600);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    const measure = () => {
      setViewHeight(el.clientHeight);
      if (timeline.current) setTimelinePx(timeline.current.clientWidth);
    };
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    measure();
    return () => ro.disconnect();
  }, [model]);
  useEffect(() => {
    if (!model || !selectedId) return;
    const n = model.byId.get(selectedId);
    if (!n) return;
    const open = new Set(collapsed);
    let changed = false;
    for (let p = n.span.parentSpanId ? model.byId.get(n.span.parentSpanId) : undefined, guard = 0; p && guard < 100000; guard++) {
      if (open.delete(p.span.spanId)) changed = true;
      p = p.span.parentSpanId ? model.byId.get(p.span.parentSpanId) : undefined;
    }
    if (changed) setCollapsed(open);
    const list = changed ? visibleRows(model, open) : rows;
    const i = list.indexOf(n);
    const el = scroller.current;
    if (el && i >= 0 && (i * rowHeight < el.scrollTop || (i + 1) * rowHeight > el.scrollTop + el.clientHeight)) {
      el.scrollTop = Math.max(0, i * rowHeight - el.clientHeight / 3);
    }
  }, [model, selectedId]);

  // Up and Down move the selection; Left and Right collapse and expand.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
      if (!rows.length) return;
      const i = selected ? rows.indexOf(selected) : -1;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const next = rows[Math.min(rows.length - 1, Math.max(0, i + (e.key === 'ArrowDown' ? 1 : -1)))]!;
        select(next.span.spanId);
      } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && selected && selected.children.length) {
        const c = new Set(collapsed);
        if (e.key === 'ArrowLeft') c.add(selected.span.spanId);
        else c.delete(selected.span.spanId);
        setCollapsed(c);
      } else if (e.key === 'Escape') {
        select(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [rows, selected, collapsed]);

  const toggle = (n: Node) => {
    const c = new Set(collapsed);
    if (c.has(n.span.spanId)) c.delete(n.span.spanId);
    else c.add(n.span.spanId);
    setCollapsed(c);
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewHeight) / rowHeight) + overscan);
  const logs = trace?.logs ?? [];
  const shownLogs = onlySpanLogs && selected ? logs.filter((l) => l.spanId === selected.span.spanId) : logs;
  const traceAtMs = model ? Number(model.startNs / 1_000_000n) : Date.now();

  return (
    <div class="page trace-page">
      <TopBar email={email} onLogout={onLogout}>
        <span class="crumb mono" title={traceId}>
          trace {traceId}
        </span>
      </TopBar>
      {error && (
        <p class="error trace-error" role="alert" data-testid="trace-error">
          {error}
        </p>
      )}
      {!trace && !error && <p class="muted trace-error">Loading the trace…</p>}
      {trace && model && (
        <>
          <div class="trace-summary" data-testid="trace-summary">
            <strong data-testid="span-count">
              {trace.spans.length.toLocaleString('en-US')} span{trace.spans.length === 1 ? '' : 's'}
            </strong>
            <span class={model.errors ? 'error' : ''} data-testid="error-count">
              {model.errors.toLocaleString('en-US')} error{model.errors === 1 ? '' : 's'}
            </span>
            <span>
              total <strong data-testid="total-duration">{formatNs(model.totalNs)}</strong>
            </span>
            <span class="muted">started {formatNsTime(model.startNs, tz)}</span>
            {trace.truncated && <span class="error">the trace has more spans: {trace.spans.length.toLocaleString('en-US')} of them are shown</span>}
            <span class="spacer" />
            <span class="legend">
              {model.services.map((s) => (
                <span class="legend-item service-item" key={s}>
                  <i class="swatch" style={{ background: colorOf(s) }} />
                  {s}
                </span>
              ))}
            </span>
            <a class="btn" href={logsUrl(trace.traceId, null, traceAtMs)} data-testid="trace-logs-link">
              Logs of this trace in search
            </a>
          </div>
          <main class="trace-main">
            <section class="waterfall" aria-label="Waterfall">
              <div class="wf-head">
                <div class="wf-name">Span</div>
                <div class="wf-timeline" ref={timeline}>
                  {[0, 0.25, 0.5, 0.75, 1].map((f) => (
                    <span key={f} class="tick" style={{ left: `${f * 100}%` }}>
                      {formatNs(model.totalNs * f)}
                    </span>
                  ))}
                </div>
              </div>
              <div class="wf-scroll" ref={scroller} onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)} data-testid="waterfall">
                <div class="wf-space" style={{ height: `${rows.length * rowHeight}px` }}>
                  {rows.slice(first, last).map((n, k) => (
                    <SpanRow
                      key={n.span.spanId + (first + k)}
                      n={n}
                      top={(first + k) * rowHeight}
                      model={model}
                      timelinePx={timelinePx}
                      color={colorOf(n.span.service)}
                      selected={n === selected}
                      collapsed={collapsed.has(n.span.spanId)}
                      onSelect={() => {
                        select(n.span.spanId);
                        setTab('span');
                      }}
                      onToggle={() => toggle(n)}
                    />
                  ))}
                </div>
              </div>
            </section>
            <aside class="trace-side" aria-label="Span and logs">
              <div class="tabs" role="tablist">
                <button type="button" role="tab" aria-selected={tab === 'span'} class={tab === 'span' ? 'on' : ''} onClick={() => setTab('span')} data-testid="tab-span">
                  Span
                </button>
                <button type="button" role="tab" aria-selected={tab === 'logs'} class={tab === 'logs' ? 'on' : ''} onClick={() => setTab('logs')} data-testid="tab-logs">
                  Logs ({logs.length.toLocaleString('en-US')}
                  {trace.logsTruncated ? '+' : ''})
                </button>
              </div>
              {tab === 'span' ? (
                selected ? (
                  <SpanDetail
                    traceId={trace.traceId}
                    n={selected}
                    model={model}
                    tz={tz}
                    logCount={logs.filter((l) => l.spanId === selected.span.spanId).length}
                    onSelect={select}
                    onLogs={() => {
                      setOnlySpanLogs(true);
                      setTab('logs');
                    }}
                  />
                ) : (
                  <p class="muted pad">Click a span (or use ↑ ↓) to see its attributes, events and links. ← → collapse and expand.</p>
                )
              ) : (
                <div class="trace-logs" data-testid="trace-logs">
                  <label class="only-span">
                    <input type="checkbox" checked={onlySpanLogs && !!selected} disabled={!selected} onChange={(e) => setOnlySpanLogs((e.target as HTMLInputElement).checked)} data-testid="only-span-logs" />
                    {selected ? `only span "${selected.span.name}"` : 'select a span to see its logs only'}
                  </label>
                  {shownLogs.length === 0 ? (
                    <p class="muted pad">No logs with this {onlySpanLogs && selected ? 'span' : 'trace'}'s id.</p>
                  ) : (
                    shownLogs.map((l, i) => <LogLine key={i} log={l} tz={tz} model={model} onSelect={select} />)
                  )}
                </div>
              )}
            </aside>
          </main>
        </>
      )}
    </div>
  );
}

function SpanRow({
  n,
  top,
  model,
  timelinePx,
  color,
  selected,
  collapsed,
  onSelect,
  onToggle,
}: {
  n: Node;
  top: number;
  model: Model;
  timelinePx: number;
  color: string;
  selected: boolean;
  collapsed: boolean;
  onSelect: () => void;
  onToggle: () => void;
}) {
  const s = n.span;
  const left = (n.offsetNs / model.totalNs) * 100;
  const width = (n.durationNs / model.totalNs) * 100;
  const error = s.statusCode === 'Error';
  const indent = Math.min(n.depth, 40) * 14;
  // The duration's label: inside a bar wide enough for it, else after it, else (at the right
  // edge) before it.
  const px = (pct: number) => (pct / 100) * timelinePx;
  const durPlace = px(width) >= 70 ? 'inside' : px(100 - left - width) >= 70 ? 'after' : 'before';
  return (
    <div
      class={`wf-row${selected ? ' selected' : ''}${error ? ' error' : ''}`}
      style={{ top: `${top}px` }}
      onClick={onSelect}
      data-testid="span-row"
      data-span-id={s.spanId}
      data-depth={n.depth}
    >
      <div class="wf-name" style={{ paddingLeft: `${indent + 6}px` }} title={`${s.service}: ${s.name}`}>
        {n.children.length > 0 ? (
          <button
            type="button"
            class="twisty"
            aria-expanded={!collapsed}
            aria-label={collapsed ? `Expand (${n.children.length} children)` : 'Collapse'}
            onClick={(e) => {
              e.stopPropagation();
              onToggle();
            }}
            data-testid="toggle"
          >
            {collapsed ? '▸' : '▾'}
          </button>
        ) : (
          <span class="twisty" />
        )}
        <i class="svc-dot" style={{ background: color }} />
        {error && (
          <span class="err-mark" title={s.statusMessage || 'error'}>
            !
          </span>
        )}
        <span class="svc">{s.service}</span>
        <span class="name">{s.name}</span>
        {n.missingParent && (
          <span class="orphan" title={`parent span ${s.parentSpanId} is not in this trace`}>
            missing parent
          </span>
        )}
        {collapsed && (
          <span class="hidden-count">
            +{countDescendants(n)}
            {n.subtreeErrors > (error ? 1 : 0) ? ' ⚠' : ''}
          </span>
        )}
      </div>
      <div class="wf-timeline">
        <div class="bar" style={{ left: `${left}%`, width: `max(2px, ${width}%)`, background: color }} />
        {s.events.map((e, i) => {
          const at = Number(BigInt(e.timeUnixNano) - model.startNs);
          return (
            <i
              key={i}
              class={`event${e.name === 'exception' ? ' exception' : ''}`}
              style={{ left: `${(at / model.totalNs) * 100}%` }}
              title={`${e.name} at +${formatNs(at)}`}
              data-testid="event-mark"
            />
          );
        })}
        <span class={`dur ${durPlace}`} style={durPlace === 'inside' ? { right: `${100 - left - width}%` } : durPlace === 'before' ? { right: `${100 - left}%` } : { left: `${left + width}%` }}>
          {formatNs(n.durationNs)}
        </span>
      </div>
    </div>
  );
}

function countDescendants(n: Node): number {
  let count = 0;
  const stack = [...n.children];
  const seen = new Set<Node>();
  while (stack.length) {
    const c = stack.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    count++;
    stack.push(...c.children);
  }
  return count;
}

function Attributes({ title, attrs }: { title: string; attrs: Record<string, string> }) {
  const entries = Object.entries(attrs ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section>
      <h3>
        {title} <span class="count">{entries.length}</span>
      </h3>
      {entries.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <dl class="kv">
          {entries.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function SpanDetail({
  traceId,
  n,
  model,
  tz,
  logCount,
  onSelect,
  onLogs,
}: {
  traceId: string;
  n: Node;
  model: Model;
  tz: TimeZone;
  logCount: number;
  onSelect: (id: string) => void;
  onLogs: () => void;
}) {
  const s = n.span;
  const parent = s.parentSpanId ? model.byId.get(s.parentSpanId) : undefined;
  return (
    <div class="span-detail" data-testid="span-detail">
      <h2 class="span-title">
        {s.statusCode === 'Error' && <span class="badge status-error">Error</span>} {s.name}
      </h2>
      {s.statusMessage && <pre class="detail-body">{s.statusMessage}</pre>}
      <div class="trace-links">
        <button type="button" class="btn" onClick={onLogs} data-testid="span-logs-here">
          Logs of this span ({logCount})
        </button>
        <a class="btn" href={logsUrl(traceId, s.spanId, Number(n.start / 1_000_000n))} data-testid="span-logs-search">
          … in log search
        </a>
      </div>
      <dl class="kv">
        <div>
          <dt>service</dt>
          <dd>{s.service}</dd>
        </div>
        <div>
          <dt>kind</dt>
          <dd>{s.kind || '—'}</dd>
        </div>
        <div>
          <dt>status</dt>
          <dd>{s.statusCode || 'Unset'}</dd>
        </div>
        <div>
          <dt>start</dt>
          <dd>
            {formatNsTime(n.start, tz)} <span class="muted">(+{formatNs(n.offsetNs)})</span>
          </dd>
        </div>
        <div>
          <dt>duration</dt>
          <dd data-testid="span-duration">
            {formatNs(n.durationNs)} <span class="muted">({n.durationNs.toLocaleString('en-US')} ns)</span>
          </dd>
        </div>
        <div>
          <dt>span id</dt>
          <dd>{s.spanId}</dd>
        </div>
        <div>
          <dt>parent</dt>
          <dd>
            {!s.parentSpanId ? (
              '— (root)'
            ) : parent ? (
              <button type="button" class="link" onClick={() => onSelect(parent.span.spanId)}>
                {parent.span.name} ({s.parentSpanId})
              </button>
            ) : (
              <span class="orphan">{s.parentSpanId}: not in this trace</span>
            )}
          </dd>
        </div>
        <div>
          <dt>scope</dt>
          <dd>{s.scope || '—'}</dd>
        </div>
        {s.traceState && (
          <div>
            <dt>trace state</dt>
            <dd>{s.traceState}</dd>
          </div>
        )}
      </dl>
      <Attributes title="Attributes" attrs={s.attributes} />
      <section>
        <h3>
          Events <span class="count">{s.events.length}</span>
        </h3>
        {s.events.length === 0 ? (
          <p class="muted">none</p>
        ) : (
          s.events.map((e, i) => (
            <div class="event-item" key={i} data-testid="span-event">
              <div>
                <strong class={e.name === 'exception' ? 'error' : ''}>{e.name}</strong>{' '}
                <span class="muted">+{formatNs(Number(BigInt(e.timeUnixNano) - n.start))} into the span</span>
              </div>
              {Object.keys(e.attributes ?? {}).length > 0 && (
                <dl class="kv">
                  {Object.entries(e.attributes).map(([k, v]) => (
                    <div key={k}>
                      <dt>{k}</dt>
                      <dd>{v}</dd>
                    </div>
                  ))}
                </dl>
              )}
            </div>
          ))
        )}
      </section>
      <section>
        <h3>
          Links <span class="count">{s.links.length}</span>
        </h3>
        {s.links.length === 0 ? (
          <p class="muted">none</p>
        ) : (
          s.links.map((l, i) => {
            const here = model.byId.get(l.spanId);
            const same = here && l.traceId === traceId;
            return (
              <div class="event-item" key={i} data-testid="span-link">
                {same ? (
                  <button type="button" class="link" onClick={() => onSelect(l.spanId)}>
                    {here!.span.name} (this trace, span {l.spanId})
                  </button>
                ) : (
                  <a href={traceUrl(l.traceId, l.spanId)} data-testid="link-trace">
                    trace {l.traceId}, span {l.spanId}
                  </a>
                )}
                {l.traceState && <div class="muted small">trace state {l.traceState}</div>}
                {Object.keys(l.attributes ?? {}).length > 0 && (
                  <dl class="kv">
                    {Object.entries(l.attributes).map(([k, v]) => (
                      <div key={k}>
                        <dt>{k}</dt>
                        <dd>{v}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </div>
            );
          })
        )}
      </section>
      <Attributes title="Resource attributes" attrs={s.resourceAttributes} />
    </div>
  );
}

function LogLine({ log, tz, model, onSelect }: { log: TraceLog; tz: TimeZone; model: Model; onSelect: (id: string) => void }) {
  const sev = severityClass(log.severityText || log.severityNumber);
  const span = log.spanId ? model.byId.get(log.spanId) : undefined;
  return (
    <div class={`log-line sev-${sev}`} data-testid="trace-log">
      <div class="log-meta">
        <span class={`badge sev-bg-${sev}`}>{log.severityText || sev}</span>
        <span class="mono small">{formatNsTime(BigInt(log.timeUnixNano), tz).slice(11)}</span>
        <span class="muted small">{log.service}</span>
        {span && (
          <button type="button" class="link small" onClick={() => onSelect(span.span.spanId)}>
            {span.span.name}
          </button>
        )}
      </div>
      <pre class="log-body">{log.body}</pre>
    </div>
  );
}
