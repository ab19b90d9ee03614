// Vitest global setup: checks once, before any test file runs, whether the PostgreSQL server the
// tests expect answers, tells every file (inject('postgres')), and says plainly on one line when
// the PostgreSQL tests will be skipped, or will fail because MEMHUB_REQUIRE_POSTGRES=1.
import type { TestProject } from 'vitest/node';
import { checkPostgres, TEST_POSTGRES_URL, withoutPassword, type PostgresAvailability } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresAvailability;
  }
}

/** Set once the line is printed: each test project runs this setup, in the same process. */
const REPORTED = Symbol.for('memhub.postgres-availability-reported');

export default async function setup(project: TestProject): Promise<void> {
  const availability = await checkPostgres(TEST_POSTGRES_URL);
  project.provide('postgres', availability);
  const shared = globalThis as { [REPORTED]?: boolean };
  if (availability.available || shared[REPORTED] === true) return;
  shared[REPORTED] = true;
  const where = withoutPassword(availability.url);
  if (availability.required) {
    console.warn(`PostgreSQL tests will FAIL: MEMHUB_REQUIRE_POSTGRES=1 and the server at ${where} cannot be reached (${availability.reason}).`);
  } else {
    console.warn(
      `PostgreSQL tests SKIPPED: no server at ${where} (${availability.reason}). ` +
        'Set MEMHUB_TEST_POSTGRES_URL to use another; MEMHUB_REQUIRE_POSTGRES=1 makes this a failure.',
    );
  }
}
