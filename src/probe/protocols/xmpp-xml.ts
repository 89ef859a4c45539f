// A small, strict, incremental XML scanner for the first elements of an XMPP stream
// (RFC 6120 section 4 and section 11). XMPP has no line ends: elements arrive in arbitrary
// chunks, the stream root stays open, and nothing after <proceed/> may be consumed.
import { printable } from '../errors.ts';
import type { DialectIO } from '../reader.ts';

/** Malformed or restricted XML; the dialect turns it into a PROTOCOL_ERROR. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

/** One lexical unit of the stream. */
export type XmlToken =
  | { kind: 'decl' }
  | { kind: 'start'; qname: string; attrs: Map<string, string>; selfClosing: boolean }
  | { kind: 'end'; qname: string }
  | { kind: 'text'; raw: string };

/** An element with its namespace resolved (RFC 6120 section 4.8). */
export interface XmlElement {
  qname: string;
  local: string;
  ns: string;
  attrs: Map<string, string>;
  children: XmlElement[];
  text: string;
}

/** Server text quoted in an error: control bytes escaped, cut short (a name may be 8 KiB). */
function q(text: string): string {
  return printable(text, 60);
}

/** Longest single tag accepted (a stream header is a few hundred bytes). */
const MAX_TAG = 8192;
/** Deepest nesting accepted below the stream root. */
const MAX_DEPTH = 16;

const ATTR = /\s+([^\s=/>"']+)\s*=\s*(?:'([^'<]*)'|"([^"<]*)")/y;
const NAME = /^[^\s=/>"'<&]+/;
const WHOLE_NAME = /^[^\s=/>"'<&]+$/;

/**
 * Scans one token at `pos`. Returns null when `buf` holds only part of it (read more).
 * Text is returned in pieces as it arrives; callers concatenate before decoding entities.
 */
export function scanToken(buf: string, pos: number): { token: XmlToken; end: number } | null {
  if (pos >= buf.length) return null;
  if (buf[pos] !== '<') {
    const lt = buf.indexOf('<', pos);
    const end = lt < 0 ? buf.length : lt;
    return { token: { kind: 'text', raw: buf.slice(pos, end) }, end };
  }
  if (buf.length < pos + 2) return null;
  const second = buf[pos + 1];
  if (second === '!') {
    // RFC 6120 section 11.1: comments, DTDs and the like are restricted in XMPP.
    throw new XmlSyntaxError('comment, DTD or CDATA section, restricted in XMPP (RFC 6120 section 11.1)');
  }
  if (second === '?') {
    const close = buf.indexOf('?>', pos + 2);
    if (close < 0) return null;
    if (!/^<\?xml\s/.test(buf.slice(pos, pos + 6))) {
      throw new XmlSyntaxError('processing instruction, restricted in XMPP (RFC 6120 section 11.1)');
    }
    return { token: { kind: 'decl' }, end: close + 2 };
  }
  const close = tagEnd(buf, pos + 1);
  if (close < 0) return null;
  const inner = buf.slice(pos + 1, close);
  if (second === '/') {
    const qname = inner.slice(1).trimEnd();
    if (!WHOLE_NAME.test(qname)) throw new XmlSyntaxError(`malformed end tag </${q(qname)}>`);
    return { token: { kind: 'end', qname }, end: close + 1 };
  }
  return { token: parseStartTag(inner), end: close + 1 };
}

/** Index of the '>' ending a tag that starts at `from`, skipping quoted values; -1 if absent. */
function tagEnd(buf: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '>') {
      return i;
    } else if (c === '<') {
      throw new XmlSyntaxError("'<' inside a tag");
    }
  }
  return -1;
}

function parseStartTag(inner: string): XmlToken {
  const selfClosing = inner.endsWith('/');
  const body = selfClosing ? inner.slice(0, -1) : inner;
  const qname = NAME.exec(body)?.[0];
  if (qname === undefined) throw new XmlSyntaxError(`malformed start tag <${q(inner)}>`);
  const attrs = new Map<string, string>();
  let i = qname.length;
  for (;;) {
    ATTR.lastIndex = i;
    const m = ATTR.exec(body);
    if (m === null) break;
    const name = m[1]!;
    if (attrs.has(name)) throw new XmlSyntaxError(`duplicate attribute ${q(name)} on <${q(qname)}>`);
    attrs.set(name, decodeEntities(m[2] ?? m[3] ?? ''));
    i = ATTR.lastIndex;
  }
  if (body.slice(i).trim() !== '') throw new XmlSyntaxError(`malformed attributes on <${q(qname)}>`);
  return { kind: 'start', qname, attrs, selfClosing };
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The five predefined entities and character references; any other is restricted (RFC 6120 section 11.1). */
export function decodeEntities(s: string): string {
  return s.replace(/&([^;&\s]{0,10});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlSyntaxError("bare '&' in XML");
    const named = ENTITIES[ref];
    if (named !== undefined) return named;
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    const code = num === null ? NaN : num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2]);
    if (!Number.isInteger(code) || code > 0x10ffff) throw new XmlSyntaxError(`entity reference &${q(ref)}; is not allowed`);
    return String.fromCodePoint(code);
  });
}

/** Namespace declarations in scope: prefix ('' for the default) to URI. */
type Scope = ReadonlyMap<string, string>;

function childScope(parent: Scope, attrs: Map<string, string>): Scope {
  let scope: Map<string, string> | null = null;
  for (const [name, value] of attrs) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      scope ??= new Map(parent);
      scope.set(name === 'xmlns' ? '' : name.slice(6), value);
    }
  }
  return scope ?? parent;
}

function resolve(qname: string, scope: Scope): { local: string; ns: string } {
  const colon = qname.indexOf(':');
  if (colon < 0) return { local: qname, ns: scope.get('') ?? '' };
  const prefix = qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) throw new XmlSyntaxError(`undeclared namespace prefix ${q(prefix)} on <${q(qname)}>`);
  return { local: qname.slice(colon + 1), ns };
}

/**
 * Reads an XMPP stream over a DialectIO: the root's start tag, then its children one at a
 * time. Reads more only when the buffer holds no complete token, so bytes that arrived after
 * the last element returned stay counted in `leftover`.
 */
export class XmppStreamReader {
  private buf = '';
  private pos = 0;
  private scope: Scope = new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]);
  private rootQname = '';

  private readonly io: DialectIO;

  constructor(io: DialectIO) {
    this.io = io;
  }

  /** Bytes received but not consumed by any returned token. */
  get leftover(): number {
    return this.buf.length - this.pos;
  }

  /** The server's stream header: an optional XML declaration, then the open root tag. */
  async readStreamHeader(): Promise<XmlElement> {
    for (let seenDecl = false; ; ) {
      const t = await this.next();
      if (t.kind === 'text') {
        if (t.raw.trim() === '') continue;
        throw new XmlSyntaxError(`text where the stream header belongs: "${printable(t.raw.trim(), 60)}"`);
      }
      if (t.kind === 'decl' && !seenDecl) {
        seenDecl = true;
        continue;
      }
      if (t.kind !== 'start' || t.selfClosing) throw new XmlSyntaxError('expected the stream header');
      this.scope = childScope(this.scope, t.attrs);
      this.rootQname = t.qname;
      return { qname: t.qname, ...resolve(t.qname, this.scope), attrs: t.attrs, children: [], text: '' };
    }
  }

  /** The next child of the stream root, or null when the server closed the stream. */
  async readElement(): Promise<XmlElement | null> {
    for (;;) {
      const t = await this.next();
      if (t.kind === 'text') {
        // Whitespace keep-alives between stanzas (RFC 6120 section 4.6.1).
        if (t.raw.trim() !== '') throw new XmlSyntaxError('text directly inside the stream root');
        continue;
      }
      if (t.kind === 'end') {
        if (t.qname !== this.rootQname) throw new XmlSyntaxError(`unexpected </${q(t.qname)}>`);
        return null;
      }
      if (t.kind === 'decl') throw new XmlSyntaxError('XML declaration inside the stream');
      return this.element(t, this.scope, 1);
    }
  }

  private async element(start: Extract<XmlToken, { kind: 'start' }>, parent: Scope, depth: number): Promise<XmlElement> {
    if (depth > MAX_DEPTH) throw new XmlSyntaxError(`elements nested deeper than ${MAX_DEPTH}`);
    const scope = childScope(parent, start.attrs);
    const el: XmlElement = { qname: start.qname, ...resolve(start.qname, scope), attrs: start.attrs, children: [], text: '' };
    if (start.selfClosing) return el;
    let raw = '';
    for (;;) {
      const t = await this.next();
      if (t.kind === 'text') raw += t.raw;
      else if (t.kind === 'start') el.children.push(await this.element(t, scope, depth + 1));
      else if (t.kind === 'decl') throw new XmlSyntaxError('XML declaration inside an element');
      else if (t.qname !== start.qname) throw new XmlSyntaxError(`<${q(start.qname)}> closed by </${q(t.qname)}>`);
      else {
        el.text = decodeEntities(raw);
        return el;
      }
    }
  }

  private async next(): Promise<XmlToken> {
    for (;;) {
      const scanned = scanToken(this.buf, this.pos);
      if (scanned !== null) {
        this.pos = scanned.end;
        return scanned.token;
      }
      if (this.buf.length - this.pos > MAX_TAG) throw new XmlSyntaxError(`a tag longer than ${MAX_TAG} bytes`);
      const chunk = await this.io.readSome();
      // latin1 keeps one char per byte, so `leftover` counts bytes; names and namespaces are ASCII.
      this.buf = this.buf.slice(this.pos) + chunk.toString('latin1');
      this.pos = 0;
    }
  }
}

/** Text from the wire (latin1 here, to count bytes) as the UTF-8 it was. */
export function utf8(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}
