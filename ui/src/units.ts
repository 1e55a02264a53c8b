// Values of metrics in their units (OpenTelemetry's UCUM codes): bytes, durations, percent and
// counts read the way people say them; a rate adds "/s".

const siSuffixes: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

function trim(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && abs < 0.001) return n.toExponential(2);
  const s = n.toPrecision(Math.max(digits, Math.floor(Math.log10(Math.max(abs, 1))) + 1));
  return String(Number(s));
}

function si(n: number): string {
  const abs = Math.abs(n);
  for (const [f, s] of siSuffixes) if (abs >= f) return `${trim(n / f)}${s}`;
  return trim(n);
}

const byteUnits: Record<string, number> = { By: 1, KiBy: 1024, MiBy: 1024 ** 2, GiBy: 1024 ** 3, TiBy: 1024 ** 4, KBy: 1e3, MBy: 1e6, GBy: 1e9, TBy: 1e12, bit: 1 / 8 };
const secondUnits: Record<string, number> = { ns: 1e-9, us: 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, min: 60, h: 3600, d: 86400 };

function bytes(n: number): string {
  const names = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < names.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${trim(v)} ${names[i]}`;
}

function seconds(n: number): string {
  const abs = Math.abs(n);
  if (abs === 0) return '0 s';
  if (abs < 1e-6) return `${trim(n * 1e9)} ns`;
  if (abs < 1e-3) return `${trim(n * 1e6)} µs`;
  if (abs < 1) return `${trim(n * 1e3)} ms`;
  if (abs < 120) return `${trim(n)} s`;
  if (abs < 7200) return `${trim(n / 60)} min`;
  if (abs < 172800) return `${trim(n / 3600)} h`;
  return `${trim(n / 86400)} d`;
}

// "{request}" -> "requests"; "1" and "" -> "" (a plain number).
function countWord(unit: string): string {
  const m = /^\{(.+)\}$/.exec(unit);
  if (m) return m[1]!;
  return unit === '1' ? '' : unit;
}

// The value with its unit; `perSecond` for rates.
export function formatValue(v: number | null | undefined, unit: string, perSecond = false): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const rate = perSecond ? '/s' : '';
  if (unit in byteUnits) return bytes(v * byteUnits[unit]!) + rate;
  if (unit in secondUnits) return perSecond ? `${trim(v)} ${unit}/s` : seconds(v * secondUnits[unit]!);
  if (unit === '%') return `${trim(v)}%${rate}`;
  const word = countWord(unit);
  return `${si(v)}${word ? ` ${word}` : ''}${rate}`;
}

// The axis labels: shorter, the same scaling.
export function formatAxis(v: number, unit: string, perSecond = false): string {
  return formatValue(v, unit, perSecond).replace(/ (requests?|items?)\b/, '');
}

export function isRate(aggregation: string): boolean {
  return aggregation === 'rate';
}
