import { StoreConnectionError } from '../../errors.js';

/** Node's socket errors that mean the server cannot be reached or the connection broke, in words. */
const SOCKET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the server running, and listening on that address and port?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the server reset the connection',
  EPIPE: 'the connection was closed',
  ENOENT: 'no server socket at that path',
};

/**
 * SQLSTATE classes and codes that are about the connection, not the statement: connection
 * exceptions (08), authorization (28: wrong password, unknown role, no pg_hba.conf entry), the
 * database missing (3D000), too many connections (53300), and the server shutting down or
 * starting (57P01-57P03). The server's own message says which, and never holds the password.
 */
function isConnectionSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('28') || code === '3D000' || code === '53300' || /^57P0[1-3]$/.test(code);
}

/**
 * The driver's error, when it means the server could not be used, as a StoreConnectionError that
 * names the server and the reason (the driver's error is its `cause`); undefined for any other error.
 */
export function asConnectionError(error: unknown, host: string, connectTimeoutMs: number): StoreConnectionError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_REASONS[code] !== undefined) {
    return new StoreConnectionError(host, SOCKET_REASONS[code], { cause: error });
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && isConnectionSqlState(code)) {
    return new StoreConnectionError(host, `the server refused: ${error.message} (SQLSTATE ${code})`, { cause: error });
  }
  const reason = reasonFromMessage(error.message, connectTimeoutMs);
  return reason === undefined ? undefined : new StoreConnectionError(host, reason, { cause: error });
}

/** The driver's errors that carry no code, recognised by their (stable) messages. */
function reasonFromMessage(message: string, connectTimeoutMs: number): string | undefined {
  if (message === 'timeout expired' || message.includes('due to connection timeout')) {
    return `no answer within ${connectTimeoutMs} ms (connectTimeoutMs): the server is down, or a firewall drops the packets`;
  }
  if (message.includes('timeout exceeded when trying to connect')) {
    return `no connection became free within ${connectTimeoutMs} ms (connectTimeoutMs); raise maxConnections, or look for slow statements`;
  }
  if (message.includes('client password must be a string')) return 'the server asks for a password, and the URL gives none';
  if (message.includes('Connection terminated')) return 'the server closed the connection';
  if (message.includes('The server does not support SSL connections')) return 'the URL asks for SSL, and the server does not support it';
  return undefined;
}

/** Whether the driver's error is the server cancelling a statement that waited longer than lock_timeout. */
export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '55P03';
}
