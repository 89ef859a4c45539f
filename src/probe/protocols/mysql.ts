import type { DialectIO } from '../reader.ts';
import { notOffered, printable, protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

/** Capability flags (MySQL client/server protocol, "Capabilities Flags"). */
export const capabilities = {
  /** CLIENT_LONG_PASSWORD; MariaDB calls it CLIENT_MYSQL and clears it to signal its extended flags. */
  longPassword: 0x1,
  protocol41: 0x200,
  ssl: 0x800,
  secureConnection: 0x8000,
  pluginAuth: 0x80000,
} as const;

/** What the SSL Request announces: a 4.1+ client that wants TLS (as libmysqlclient sends). */
const CLIENT_FLAGS = capabilities.longPassword | capabilities.protocol41 | capabilities.ssl | capabilities.secureConnection;
const MAX_PACKET = 16 * 1024 * 1024;
/** utf8_general_ci: known to every server since 4.1 (MySQL 8's 255 is unknown to MariaDB). */
const CHARSET = 33;
/** Longest greeting or ERR packet accepted; real ones are 60-200 bytes, errors at most 512. */
const MAX_GREETING = 1024;

/** The parts of the Initial Handshake Packet (protocol 10) the probe uses or reports. */
export interface MysqlGreeting {
  protocolVersion: number;
  serverVersion: string;
  connectionId: number;
  /** Lower and upper capability halves combined. */
  capabilities: number;
  /** MariaDB 10.2+ extended capabilities from the reserved filler, or null (MySQL). */
  mariadbCapabilities: number | null;
}

/** The SSL Request packet (HandshakeResponse41 cut after the character set), sequence id 1. */
export function sslRequest(): Buffer {
  const payload = Buffer.alloc(32);
  payload.writeUInt32LE(CLIENT_FLAGS, 0);
  payload.writeUInt32LE(MAX_PACKET, 4);
  payload[8] = CHARSET;
  // Bytes 9-31 stay zero: the filler (MariaDB reads its extended client flags from the last 4).
  return Buffer.concat([Buffer.from([payload.length, 0, 0, 1]), payload]);
}

/**
 * MySQL and MariaDB: the server greets first with its capabilities; a client that wants TLS
 * answers with the SSL Request instead of the login packet, and the TLS handshake starts at
 * once. There is no go-ahead from the server.
 */
export const mysql: Dialect = async (io) => {
  io.step = 'greeting';
  const packet = await readGreetingPacket(io);
  if (packet[0] === 0xff) {
    // An ERR packet instead of a greeting ("Host ... is not allowed to connect", "Too many
    // connections"): the server refused us before TLS could be checked.
    throw protocolError(`MySQL server refused the connection: ${describeErr(packet)}`, io.step);
  }
  const greeting = parseMysqlGreeting(packet, io.step);
  if ((greeting.capabilities & capabilities.ssl) === 0) {
    throw notOffered('MySQL', `${printable(greeting.serverVersion)} does not announce CLIENT_SSL`, io.step);
  }
  if ((greeting.capabilities & capabilities.protocol41) === 0) {
    throw protocolError(`MySQL server ${printable(greeting.serverVersion)} predates protocol 4.1`, io.step);
  }
  io.step = 'SSL request';
  io.write(sslRequest());
};

/** Reads the first packet: 3-byte little-endian length, sequence id 0, bounded payload. */
async function readGreetingPacket(io: DialectIO): Promise<Buffer> {
  const header = await io.readExact(4);
  const length = header.readUIntLE(0, 3);
  if (length > MAX_GREETING) {
    throw protocolError(`not a MySQL greeting: first packet announces ${length} bytes (more than ${MAX_GREETING})`, io.step);
  }
  if (length === 0 || header[3] !== 0) {
    throw protocolError(`not a MySQL greeting: packet length ${length}, sequence id ${header[3]}`, io.step);
  }
  return io.readExact(length);
}

/** "1130 (HY000): message" from an ERR packet (the SQL state marker is optional here). */
export function describeErr(packet: Buffer): string {
  if (packet.length < 3) return 'malformed error packet';
  const code = packet.readUInt16LE(1);
  let rest = packet.subarray(3);
  let state = '';
  if (rest[0] === 0x23 && rest.length >= 6) {
    state = ` (${rest.subarray(1, 6).toString('latin1')})`;
    rest = rest.subarray(6);
  }
  return printable(`${code}${state}: ${rest.toString('utf8')}`, 200);
}

/**
 * Parses Protocol::HandshakeV10. MySQL 8 and MariaDB share the layout up to the 10 reserved
 * bytes, where MariaDB 10.2+ keeps its extended capabilities in the last 4 when it clears
 * CLIENT_MYSQL (bit 0).
 */
export function parseMysqlGreeting(p: Buffer, step: string): MysqlGreeting {
  const protocolVersion = p[0] ?? 0;
  if (protocolVersion !== 10) {
    const why = protocolVersion === 9 ? 'protocol version 9 (MySQL before 3.22) is not supported' : `protocol version ${protocolVersion}`;
    throw protocolError(`not a MySQL greeting: ${why}`, step);
  }
  const versionEnd = p.indexOf(0, 1);
  if (versionEnd < 0) throw protocolError('malformed MySQL greeting: unterminated server version', step);
  const serverVersion = p.subarray(1, versionEnd).toString('utf8');
  // thread id (4), auth-plugin-data part 1 (8), filler (1), capability flags lower half (2).
  let o = versionEnd + 1;
  if (p.length < o + 15) throw protocolError('malformed MySQL greeting: truncated before capability flags', step);
  const connectionId = p.readUInt32LE(o);
  o += 13;
  let caps = p.readUInt16LE(o);
  o += 2;
  let mariadbCapabilities: number | null = null;
  // character set (1), status flags (2), capability flags upper half (2) follow when present.
  if (p.length >= o + 5) {
    caps = (caps | (p.readUInt16LE(o + 3) << 16)) >>> 0;
    // auth-plugin-data length (1), then 10 reserved bytes: MariaDB's flags are the last 4.
    const reserved = o + 6;
    if ((caps & capabilities.longPassword) === 0 && p.length >= reserved + 10) {
      mariadbCapabilities = p.readUInt32LE(reserved + 6);
    }
  }
  return { protocolVersion, serverVersion, connectionId, capabilities: caps, mariadbCapabilities };
}
