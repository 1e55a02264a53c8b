// "Save" and "Open" beside the log search: the search (query, mode, columns, time range) stored
// for the user or shared with the team (POST /api/v1/searches), and the saved ones to open.
import { useEffect, useRef, useState } from 'preact/hooks';

import { createSearch, deleteSearch, listSearches } from './libraryApi';
import type { SavedSearch } from './libraryApi';
import type { SearchState } from './state';
import './library.css';

export function SavedSearches({ state, onOpen }: { state: SearchState; onOpen: (s: SearchState) => void }) {
  const [open, setOpen] = useState<'save' | 'list' | null>(null);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [items, setItems] = useState<SavedSearch[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e: Event) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(null);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  useEffect(() => {
    if (open !== 'list') return;
    setItems(null);
    listSearches()
      .then((all) => setItems(all.filter((s) => s.source === 'logs')))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [open]);

  const save = async () => {
    try {
      await createSearch({ name: name.trim(), shared, source: 'logs', query: state.q, mode: state.mode, columns: state.cols, timeRange: { from: state.from, to: state.to } });
      setOpen(null);
      setName('');
      setError(null);
      setNote('Saved');
      setTimeout(() => setNote(null), 2000);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <div class="saved-searches" ref={box}>
      <button type="button" class="btn" data-testid="save-search" aria-expanded={open === 'save'} onClick={() => setOpen(open === 'save' ? null : 'save')}>
        {note ?? 'Save'}
      </button>
      <button type="button" class="btn" data-testid="open-search" aria-expanded={open === 'list'} onClick={() => setOpen(open === 'list' ? null : 'list')}>
        Open
      </button>
      {open === 'save' && (
        <form
          class="popover saved-popover"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) void save();
          }}
        >
          <label class="field">
            <span>Name</span>
            <input autoFocus value={name} data-testid="saved-name" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <label class="check">
            <input type="checkbox" checked={shared} onChange={(e) => setShared((e.target as HTMLInputElement).checked)} /> share with the team
          </label>
          {error && <p class="error">{error}</p>}
          <button type="submit" class="btn primary" data-testid="saved-submit" disabled={!name.trim()}>
            Save search
          </button>
        </form>
      )}
      {open === 'list' && (
        <div class="popover saved-popover" data-testid="saved-list">
          {error && <p class="error">{error}</p>}
          {items === null ? (
            <p class="muted">Loading…</p>
          ) : items.length === 0 ? (
            <p class="muted">No saved searches yet.</p>
          ) : (
            <ul class="saved-items">
              {items.map((s) => (
                <li key={s.id}>
                  <button
                    type="button"
                    class="link"
                    data-testid="saved-item"
                    title={s.query}
                    onClick={() => {
                      setOpen(null);
                      onOpen({ ...state, q: s.query, mode: s.mode, cols: s.columns.length ? s.columns : state.cols, from: s.timeRange.from, to: s.timeRange.to, live: false });
                    }}
                  >
                    {s.name}
                  </button>
                  {s.shared && <span class="lib-badge">shared</span>}
                  {s.deletable && (
                    <button type="button" class="btn tiny" aria-label={`Delete ${s.name}`} onClick={() => void deleteSearch(s.id).then(() => setItems(items.filter((x) => x.id !== s.id)))}>
                      ✕
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
