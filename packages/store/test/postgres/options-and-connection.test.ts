import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, StoreConnectionError, StoreValidationError } from '../../src/index.js';
import { describePostgres, dropSchema, freshSchemaName, postgres } from '../support/postgres.js';

const URL_OF_NOWHERE = 'postgres://postgres:s3cret-password@127.0.0.1:1/test';

describe('openStore options for PostgreSQL (checked before anything connects)', () => {
  it.each([
    [{ dir: '/tmp/x', url: 'postgres://127.0.0.1/test' }, 'url', /cannot be given with dir/],
    [{}, 'dir', /non-empty path \(or url/],
    [{ url: '' }, 'url', /postgres:\/\/ URL/],
    [{ url: 'not a url' }, 'url', /not a valid URL/],
    [{ url: 'http://127.0.0.1/test' }, 'url', /postgres: or postgresql:/],
    [{ url: 'postgres://127.0.0.1' }, 'url', /names no database/],
    [{ url: 'postgres://127.0.0.1/test', schema: 'Memhub' }, 'schema', /identifier/],
    [{ url: 'postgres://127.0.0.1/test', schema: 'a"; drop table x; --' }, 'schema', /identifier/],
    [{ url: 'postgres://127.0.0.1/test', schema: 'pg_memhub' }, 'schema', /reserved/],
    [{ url: 'postgres://127.0.0.1/test', schema: 'x'.repeat(64) }, 'schema', /63 characters/],
    [{ url: 'postgres://127.0.0.1/test', durability: 'full' }, 'durability', /SQLite store/],
    [{ url: 'postgres://127.0.0.1/test', walCheckpointBytes: 5 }, 'walCheckpointBytes', /SQLite store/],
    [{ url: 'postgres://127.0.0.1/test', lockStarvationMs: 5 }, 'lockStarvationMs', /SQLite store/],
    [{ url: 'postgres://127.0.0.1/test', maxConnections: 0 }, 'maxConnections', /integer from 1/],
    [{ url: 'postgres://127.0.0.1/test', connectTimeoutMs: 1.5 }, 'connectTimeoutMs', /whole number/],
    [{ url: 'postgres://127.0.0.1/test', statementTimeoutMs: -1 }, 'statementTimeoutMs', /whole number/],
    [{ url: 'postgres://127.0.0.1/test', lockTimeoutMs: 0 }, 'lockTimeoutMs', /above 0/],
    [{ dir: '/tmp/x', schema: 'memhub' }, 'schema', /PostgreSQL \(url\)/],
    [{ dir: '/tmp/x', maxConnections: 2 }, 'maxConnections', /PostgreSQL \(url\)/],
  ])('%j: StoreValidationError naming %s', async (options, field, reason) => {
    const error = await openStore(options as never).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StoreValidationError);
    expect(error).toMatchObject({ code: 'ERR_MEMHUB_VALIDATION', field });
    expect((error as StoreValidationError).reason).toMatch(reason);
  });

  it('never repeats a password it was given in a validation message', async () => {
    const error = (await openStore({ url: 'postgres://user:s3cret@127.0.0.1:99999999/test' }).catch((thrown: unknown) => thrown)) as Error;
    expect(error).toBeInstanceOf(StoreValidationError);
    expect(error.message).not.toContain('s3cret');
  });
});

describe('a PostgreSQL server that cannot be used gives StoreConnectionError, at once, never a hang', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('nothing listens on the port: "connection refused", the host named, no password, within a second', async () => {
    const started = performance.now();
    const error = (await openStore({ url: URL_OF_NOWHERE }).catch((thrown: unknown) => thrown)) as StoreConnectionError;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error).toMatchObject({ code: 'ERR_MEMHUB_CONNECTION', host: '127.0.0.1:1' });
    expect(error.message).toBe(
      'Cannot use the PostgreSQL server at 127.0.0.1:1: connection refused (is the server running, and listening on that address and port?)',
    );
    expect(error.message).not.toContain('s3cret');
    expect(error.cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a server that accepts the connection and never answers: a timeout after connectTimeoutMs', async () => {
    const silent = createServer((socket) => sockets.push(socket));
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const started = performance.now();
    const error = (await openStore({ url: `postgres://postgres@127.0.0.1:${port}/test`, connectTimeoutMs: 400 }).catch((thrown: unknown) => thrown)) as StoreConnectionError;
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error.host).toBe(`127.0.0.1:${port}`);
    expect(error.reason).toMatch(/^no answer within 400 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3_000);
  });
});

describePostgres('a PostgreSQL server that refuses the credentials or the database', () => {
  const server = new URL(postgres.url);

  it('an unknown role: StoreConnectionError with the server\'s reason', async () => {
    const url = new URL(server);
    url.username = 'memhub_no_such_role';
    const error = (await openStore({ url: url.toString() }).catch((thrown: unknown) => thrown)) as StoreConnectionError;
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error.reason).toMatch(/memhub_no_such_role/);
    expect(error.reason).toMatch(/SQLSTATE 28/);
  });

  it('a database that does not exist: StoreConnectionError saying so', async () => {
    const url = new URL(server);
    url.pathname = '/memhub_no_such_database';
    const error = (await openStore({ url: url.toString() }).catch((thrown: unknown) => thrown)) as StoreConnectionError;
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error.reason).toMatch(/database "memhub_no_such_database" does not exist \(SQLSTATE 3D000\)/);
  });

  it('stats().location, verify().location and errors name the server without its password', async () => {
    const schema = freshSchemaName();
    const url = new URL(server);
    url.password = 'p4ssw0rd-never-shown';
    try {
      const store = await openStore({ url: url.toString(), schema });
      const stats = await store.stats();
      expect(stats.engine).toBe('postgres');
      expect(stats.location).toBe(`postgres://${server.username ? `${server.username}@` : ''}${server.hostname}:${server.port || '5432'}${server.pathname} (schema ${schema})`);
      expect(JSON.stringify(await store.verify())).not.toContain('p4ssw0rd');
      await store.close();
      const closed = (await store.remember({ content: 'x' }).catch((thrown: unknown) => thrown)) as Error;
      expect(closed.message).not.toContain('p4ssw0rd');
    } finally {
      await dropSchema(schema);
    }
  });
});
