// A small Markdown subset rendered as Preact elements, never as HTML: headings (#, ##, ###),
// paragraphs, bullet and numbered lists, fenced code blocks, inline `code`, **bold**, *italic*,
// and [links](https://…) to http(s) or same-site paths only. Any HTML in the text is shown as
// text (the CSP forbids inline script anyway; this keeps a note from ever carrying markup).
import type { ComponentChildren, JSX } from 'preact';

function safeHref(href: string): string | null {
  const h = href.trim();
  if (/^https?:\/\//i.test(h)) return h;
  if (h.startsWith('/') && !h.startsWith('//')) return h;
  return null;
}

// Inline spans: code first (its content is literal), then links, bold, italic.
export function inline(text: string, key = 'i'): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const re = /(`[^`]+`)|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|(?:\*([^*\s][^*]*)\*|_([^_\s][^_]*)_)/g;
  let last = 0;
  let n = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const k = `${key}-${n++}`;
    if (m[1]) {
      out.push(<code key={k}>{m[1].slice(1, -1)}</code>);
    } else if (m[2] !== undefined) {
      const href = safeHref(m[3]!);
      out.push(
        href ? (
          <a key={k} href={href} target="_blank" rel="noopener noreferrer">
            {inline(m[2], k)}
          </a>
        ) : (
          m[0]
        ),
      );
    } else if (m[4] !== undefined) {
      out.push(<strong key={k}>{inline(m[4], k)}</strong>);
    } else {
      out.push(<em key={k}>{inline(m[5] ?? m[6] ?? '', k)}</em>);
    }
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ text }: { text: string }) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: JSX.Element[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const k = `b${blocks.length}`;
    if (line.trim() === '') {
      i++;
      continue;
    }
    if (line.startsWith('```')) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.startsWith('```')) code.push(lines[i++]!);
      i++;
      blocks.push(<pre key={k}>{code.join('\n')}</pre>);
      continue;
    }
    const h = /^(#{1,3})\s+(.*)$/.exec(line);
    if (h) {
      const level = h[1]!.length;
      const content = inline(h[2]!, k);
      blocks.push(level === 1 ? <h3 key={k}>{content}</h3> : level === 2 ? <h4 key={k}>{content}</h4> : <h5 key={k}>{content}</h5>);
      i++;
      continue;
    }
    if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: JSX.Element[] = [];
      while (i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i]!)) {
        items.push(<li key={`${k}-${items.length}`}>{inline(lines[i]!.replace(/^\s*([-*]|\d+\.)\s+/, ''), `${k}-${items.length}`)}</li>);
        i++;
      }
      blocks.push(ordered ? <ol key={k}>{items}</ol> : <ul key={k}>{items}</ul>);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '' && !lines[i]!.startsWith('```') && !/^(#{1,3})\s/.test(lines[i]!) && !/^\s*([-*]|\d+\.)\s+/.test(lines[i]!)) {
      para.push(lines[i++]!);
    }
    blocks.push(<p key={k}>{inline(para.join(' '), k)}</p>);
  }
  return <div class="markdown">{blocks}</div>;
}
