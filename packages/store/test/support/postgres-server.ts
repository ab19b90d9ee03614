import pg from 'pg';

/** The server the PostgreSQL tests use: MEMHUB_TEST_POSTGRES_URL, else the local one (trust auth, database `test`). */
export const TEST_POSTGRES_URL = process.env['MEMHUB_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether a missing server fails the run (MEMHUB_REQUIRE_POSTGRES=1, as CI sets it) instead of skipping its tests. */
export const POSTGRES_REQUIRED = process.env['MEMHUB_REQUIRE_POSTGRES'] === '1';

/** What the global setup found out about the test server, passed to every test file. */
export interface PostgresAvailability {
  readonly url: string;
  readonly available: boolean;
  /** Why it is not available (the driver's message), when it is not. */
  readonly reason: string;
  readonly required: boolean;
}

/** The URL with its password hidden, for messages. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** Connects once, with a short timeout, and runs `SELECT 1`. */
export async function checkPostgres(url: string): Promise<PostgresAvailability> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { url, available: true, reason: '', required: POSTGRES_REQUIRED };
  } catch (error) {
    const reason = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
    return { url, available: false, reason, required: POSTGRES_REQUIRED };
  } finally {
    await client.end().catch(() => {});
  }
}
