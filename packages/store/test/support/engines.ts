import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe } from 'vitest';
import { openStore, type Store, type StoreOptions } from '../../src/index.js';
import { describePostgres, dropSchema, freshSchemaName, postgres } from './postgres.js';

/** Options of openStore that both engines take. */
export type CommonStoreOptions = Omit<StoreOptions, 'dir' | 'url' | 'schema' | 'durability' | 'busyTimeoutMs' | 'allowUnsafeFilesystem' | 'walCheckpointBytes'>;

/** Where one store lives in a test: a fresh folder (SQLite) or a fresh schema (PostgreSQL), removed after the test. */
export interface StorePlace {
  /** The openStore options that name the place. */
  readonly target: StoreOptions;
  /** Opens the store there (again, if it was opened before); closed after the test if still open. */
  open(options?: CommonStoreOptions): Promise<Store>;
}

/** One engine as the behavioural suite sees it. */
export interface EngineUnderTest {
  readonly name: 'sqlite' | 'postgres';
  /** A new, empty place for a store; removed after the test. */
  place(): StorePlace;
  /** A store in a new place: `place().open(options)`. */
  open(options?: CommonStoreOptions): Promise<Store>;
}

/**
 * Runs the same suite once per engine, SQLite and PostgreSQL, with `describe` titles that name
 * the engine. The PostgreSQL copy follows describePostgres (skipped without a server, failing
 * with MEMHUB_REQUIRE_POSTGRES=1). Each test's places are removed after it, its stores closed first.
 */
export function describeEachEngine(title: string, body: (engine: EngineUnderTest) => void): void {
  for (const name of ['sqlite', 'postgres'] as const) {
    const describeFor = name === 'postgres' ? describePostgres : describe;
    describeFor(`${title} [${name}]`, () => {
      const cleanUps: (() => Promise<void>)[] = [];
      const stores: Store[] = [];
      afterEach(async () => {
        for (const store of stores.splice(0)) await store.close().catch(() => {});
        for (const cleanUp of cleanUps.splice(0)) await cleanUp();
      });
      const place = (): StorePlace => {
        let target: StoreOptions;
        if (name === 'sqlite') {
          const dir = mkdtempSync(join(tmpdir(), 'memhub-behaviour-'));
          cleanUps.push(async () => rmSync(dir, { recursive: true, force: true }));
          target = { dir };
        } else {
          const schema = freshSchemaName();
          cleanUps.push(() => dropSchema(schema));
          target = { url: postgres.url, schema };
        }
        return {
          target,
          async open(options = {}) {
            const store = await openStore({ ...target, ...options });
            stores.push(store);
            return store;
          },
        };
      };
      body({ name, place, open: (options) => place().open(options) });
    });
  }
}
