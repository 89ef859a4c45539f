import type { DialectIO } from '../reader.ts';
import { notOffered, printable, protocolError, rejected } from '../errors.ts';
import type { Dialect } from './types.ts';
import { XmlSyntaxError, XmppStreamReader, utf8, type XmlElement } from './xmpp-xml.ts';

const STREAMS_NS = 'http://etherx.jabber.org/streams';
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
const STREAM_ERRORS_NS = 'urn:ietf:params:xml:ns:xmpp-streams';

/** The STARTTLS command (RFC 6120 section 5.4.2.1). */
export const STARTTLS_COMMAND = `<starttls xmlns='${TLS_NS}'/>`;

/**
 * A server-to-server stream should name the initiating domain (RFC 6120 section 4.7.1); we
 * have none, so we use a reserved name (RFC 2606) that cannot belong to anyone. The stream
 * ends after the TLS handshake, long before dialback or SASL would look at it.
 */
const S2S_FROM = 'certwatch.invalid';

function xmlAttr(value: string): string {
  return value.replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The initial stream header we send (RFC 6120 section 4.7), addressed to the domain checked. */
export function streamHeader(kind: 'client' | 'server', domain: string): string {
  const from = kind === 'server' ? ` from='${S2S_FROM}'` : '';
  return (
    `<?xml version='1.0'?><stream:stream${from} to='${xmlAttr(domain)}' version='1.0' ` +
    `xmlns='jabber:${kind}' xmlns:stream='${STREAMS_NS}'>`
  );
}

function is(el: XmlElement, local: string, ns: string): boolean {
  return el.local === local && el.ns === ns;
}

/** "<host-unknown/>: text" from a <stream:error> (RFC 6120 section 4.9.2). */
export function describeStreamError(el: XmlElement): string {
  const parts = el.children.filter((c) => c.ns === STREAM_ERRORS_NS);
  const condition = parts.find((c) => c.local !== 'text')?.local ?? 'undefined-condition';
  const text = parts.find((c) => c.local === 'text')?.text;
  return printable(text === undefined || text === '' ? `<${condition}/>` : `<${condition}/>: ${utf8(text)}`, 200);
}

/**
 * XMPP STARTTLS (RFC 6120 sections 4 and 5): open a stream to the domain, require
 * <starttls/> among the stream features, send it, require <proceed/>. TLS starts right after
 * the proceed element, so nothing behind it may have been sent.
 */
function xmppDialect(kind: 'client' | 'server'): Dialect {
  const label = kind === 'client' ? 'XMPP' : 'XMPP server-to-server';
  return async (io) => {
    const xml = new XmppStreamReader(io);
    try {
      await negotiate(io, xml, kind, label);
    } catch (err) {
      if (err instanceof XmlSyntaxError) throw protocolError(`not a valid XMPP stream: ${err.message}`, io.step);
      throw err;
    }
    if (xml.leftover > 0) {
      // We consumed these with <proceed/>; the Prober never sees them, so refuse them here.
      throw protocolError(`server sent ${xml.leftover} unexpected bytes after the TLS go-ahead`, 'after STARTTLS');
    }
  };
}

async function negotiate(io: DialectIO, xml: XmppStreamReader, kind: 'client' | 'server', label: string): Promise<void> {
  io.step = 'stream header';
  io.write(streamHeader(kind, io.servername));
  const root = await readHeader(io, xml);
  // RFC 6120 section 4.7.5: no version attribute means 0.9, which has no stream features.
  const version = root.attrs.get('version');
  if (version === undefined || !/^[1-9]\d*\.\d+$/.test(version)) {
    throw notOffered(label, `the stream header announces version ${printable(version ?? '0.9')}, so no stream features`, io.step);
  }

  io.step = 'stream features';
  const features = await xml.readElement();
  if (features === null) throw protocolError('server closed the stream before sending its features', io.step);
  if (is(features, 'error', STREAMS_NS)) {
    const what = describeStreamError(features);
    // host-unknown: `to` named a domain this server does not host. The XMPP domain often
    // differs from the host found by SRV (example.org served by xmpp.example.org).
    const hint = what.startsWith('<host-unknown/>')
      ? `the server does not host ${io.servername}: pass the XMPP domain with --servername`
      : undefined;
    throw protocolError(`stream error before the features: ${what}`, io.step, hint);
  }
  if (!is(features, 'features', STREAMS_NS)) {
    throw protocolError(`expected <stream:features>, got <${printable(features.qname)}>`, io.step);
  }
  if (!features.children.some((c) => is(c, 'starttls', TLS_NS))) {
    const offered = features.children.map((c) => c.local).join(', ') || 'none';
    throw notOffered(label, `<starttls/> is not among the stream features (offered: ${printable(offered)})`, io.step);
  }

  io.step = 'STARTTLS';
  io.write(STARTTLS_COMMAND);
  const answer = await xml.readElement();
  if (answer === null) throw protocolError('server closed the stream instead of answering <starttls/>', io.step);
  if (is(answer, 'proceed', TLS_NS)) return;
  // RFC 6120 section 5.4.2.2: <failure/> is the server refusing TLS after offering it.
  if (is(answer, 'failure', TLS_NS)) throw rejected(label, '<failure/>', io.step);
  if (is(answer, 'error', STREAMS_NS)) throw rejected(label, `stream error ${describeStreamError(answer)}`, io.step);
  throw protocolError(`expected <proceed/> or <failure/>, got <${printable(answer.qname)}>`, io.step);
}

async function readHeader(io: DialectIO, xml: XmppStreamReader): Promise<XmlElement> {
  let root: XmlElement;
  try {
    root = await xml.readStreamHeader();
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw protocolError(`not an XMPP stream header: ${err.message}`, io.step);
    throw err;
  }
  if (!is(root, 'stream', STREAMS_NS)) {
    throw protocolError(`not an XMPP stream header: <${printable(root.qname)}> in namespace ${printable(root.ns || '(none)')}`, io.step);
  }
  return root;
}

/** XMPP client-to-server (port 5222). */
export const xmppClient: Dialect = xmppDialect('client');
/** XMPP server-to-server (port 5269). */
export const xmppServer: Dialect = xmppDialect('server');
