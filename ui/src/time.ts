// Time expressions of the time picker: "now", "15m ago", "last 1h", "now-1h", epoch ms, and
// absolute "YYYY-MM-DD hh:mm[:ss]" read in the chosen time zone.

export type TimeZone = 'local' | 'utc';

const units: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

function duration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w|week)s?$/i.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * units[m[2]!.toLowerCase()[0]!]!;
}

// The instant an expression names, or null when it names none.
export function resolveTime(text: string, tz: TimeZone, now = Date.now()): number | null {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'now') return now;
  let m = /^(.+?)\s+ago$/.exec(t) ?? /^now\s*-\s*(.+)$/.exec(t) ?? /^last\s+(.+)$/.exec(t);
  if (m) {
    const d = duration(m[1]!);
    return d === null ? null : now - d;
  }
  if (/^\d{12,}$/.test(t)) return Number(t);
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[ t](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(z)?$/.exec(t);
  if (m) {
    const [y, mo, d, h, mi, s, ms] = m.slice(1, 8).map((x) => Number(x ?? 0)) as number[];
    if (tz === 'utc' || m[8]) return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!);
    return new Date(y!, mo! - 1, d!, h!, mi!, s!, ms!).getTime();
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}

// "last 15m" in the "from" field means the range [now-15m, now).
export function isRelative(text: string): boolean {
  const t = text.trim().toLowerCase();
  return t === 'now' || t === '' || /ago$|^now\s*-|^last\s/.test(t);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatTime(ms: number, tz: TimeZone, withMs = true): string {
  const d = new Date(ms);
  const parts =
    tz === 'utc'
      ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
      : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  const [y, mo, da, h, mi, s, msec] = parts as number[];
  const base = `${y}-${pad(mo!)}-${pad(da!)} ${pad(h!)}:${pad(mi!)}:${pad(s!)}`;
  return withMs ? `${base}.${pad(msec!, 3)}` : base;
}

export function formatDuration(ms: number): string {
  if (ms >= 86400e3 && ms % 86400e3 === 0) return `${ms / 86400e3}d`;
  if (ms >= 3600e3 && ms % 3600e3 === 0) return `${ms / 3600e3}h`;
  if (ms >= 60e3) return `${Math.round(ms / 60e3)}m`;
  return `${Math.round(ms / 1e3)}s`;
}

// A stored DateTime/DateTime64 value (UTC text such as "2026-12-04 03:20:38.123456789") in the
// chosen zone, keeping every sub-second digit it has, followed by the zone ("UTC", "UTC+05:30").
// Text that is not such a value comes back unchanged.
export function formatStoredTime(v: unknown, tz: TimeZone): string {
  const raw = String(v ?? '');
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z?$/.exec(raw);
  if (!m) return raw;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  if (Number.isNaN(ms)) return raw;
  const base = formatTime(ms, tz, false);
  const frac = m[3] ? `.${m[3]}` : '';
  if (tz === 'utc') return `${base}${frac} UTC`;
  const offset = -new Date(ms).getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${base}${frac} UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
