import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation';
import { McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type MemoryRecord } from '@memhub/store';
import { cleanEnvironment, memhubArgs, REPO_ROOT, runMemhub, useTempFolder } from './support/memhub-process.js';

const temp = useTempFolder('memhub-cli-mcp-');
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

/** Starts `memhub mcp --dir <dir> [options]` and connects the SDK's own client to it over stdio. */
async function connect(dir: string, name: string, options: readonly string[] = []): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: memhubArgs(['mcp', '--dir', dir, ...options]),
    cwd: REPO_ROOT,
    env: cleanEnvironment() as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name, version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The JSON a tool answered with; fails the test on an error result. */
function json<T>(result: CallToolResult): T {
  const [first] = result.content;
  if (first?.type !== 'text') throw new Error(`expected text content, got ${JSON.stringify(result.content)}`);
  if (result.isError === true) throw new Error(`tool error: ${first.text}`);
  return JSON.parse(first.text) as T;
}

function errorText(result: CallToolResult): string {
  expect(result.isError).toBe(true);
  const [first] = result.content;
  return first?.type === 'text' ? first.text : '';
}

describe('memhub mcp: one MCP server per agent session, all on one store', { timeout: 180_000 }, () => {
  it(
    'four servers started at once, 500 remember calls each through the SDK client: exactly 2,000 records, no error, and each server recalls the others\' records',
    async () => {
      const dir = temp.file('store');
      const SERVERS = 4;
      const CALLS = 500;
      const IN_FLIGHT = 20;
      const servers = await Promise.all(Array.from({ length: SERVERS }, (_, agent) => connect(dir, `agent-${agent}`)));

      const ids = await Promise.all(
        servers.map(async ({ client }, agent) => {
          const written: string[] = [];
          let next = 0;
          const lane = async () => {
            while (next < CALLS) {
              const index = next++;
              const result = await call(client, 'remember', {
                content: `agent ${agent} learned fact ${index} about the rollout`,
                tags: [`agent-${agent}`],
                contextPath: `/agents/${agent}`,
                metadata: { index },
              });
              written.push(json<MemoryRecord>(result).id);
            }
          };
          await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
          return written;
        }),
      );
      expect(ids.flat()).toHaveLength(SERVERS * CALLS);
      expect(new Set(ids.flat()).size).toBe(SERVERS * CALLS);

      // Every server sees every other server's records.
      let hits = 0;
      for (let agent = 0; agent < SERVERS; agent += 1) {
        const other = (agent + 1) % SERVERS;
        const found = json<MemoryRecord[]>(await call(servers[agent]!.client, 'recall', { tags: [`agent-${other}`], limit: 1000 }));
        expect(found).toHaveLength(CALLS);
        expect(new Set(found.map((record) => record.id))).toEqual(new Set(ids[other]));
        hits += found.length;
        const byWords = json<MemoryRecord[]>(await call(servers[agent]!.client, 'recall', { query: 'rollout fact', contextPath: `/agents/${other}`, limit: 5 }));
        expect(byWords).toHaveLength(5);
        hits += byWords.length;
      }
      const stats = json<{ records: number; recordsByLayer: Record<string, number> }>(await call(servers[2]!.client, 'stats', {}));
      expect(stats.records).toBe(SERVERS * CALLS);
      expect(stats.recordsByLayer).toEqual({ application: SERVERS * CALLS });

      // Closing the clients closes stdin: each server closes its store, writing its recall counts.
      await Promise.all(clients.splice(0).map((client) => client.close()));
      const store = await openStore({ dir });
      try {
        const after = await store.stats();
        expect(after.records).toBe(SERVERS * CALLS);
        expect(after.recallCountTotal).toBe(hits);
        expect((await store.verify()).ok).toBe(true);
      } finally {
        await store.close();
      }
      for (const server of servers) expect(server.stderr()).toMatch(/stopped \(stdin closed\)/);
    },
    300_000,
  );

  it('lists its tools with input schemas; bad arguments come back as error results and the server keeps serving', async () => {
    const dir = temp.file('store');
    const { client } = await connect(dir, 'careless-agent');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['archive', 'forget', 'get', 'history', 'list', 'maintain', 'recall', 'remember', 'restore', 'stats', 'update']);
    const remember = tools.find((tool) => tool.name === 'remember')!;
    expect(remember.inputSchema.required).toEqual(['content']);
    expect(Object.keys(remember.inputSchema.properties ?? {}).sort()).toEqual(['content', 'contextPath', 'expiresAt', 'key', 'layer', 'metadata', 'pinned', 'tags', 'ttl']);

    expect(errorText(await call(client, 'remember', { content: '' }))).toBe('Invalid content: is empty');
    expect(errorText(await call(client, 'remember', { content: 'x', layer: '../x' }))).toMatch(/^Invalid layer: "\.\.\/x" is not a layer name/);
    expect(errorText(await call(client, 'remember', { content: 'x', contextPath: 'relative' }))).toMatch(/^Invalid contextPath: /);
    expect(errorText(await call(client, 'remember', { content: 42 }))).toMatch(/Input validation error: .*content/s);
    expect(errorText(await call(client, 'remember', { content: 'x', colour: 'red' }))).toMatch(/Input validation error: .*colour/s);
    expect(errorText(await call(client, 'remember', {}))).toMatch(/Input validation error: .*content/s);
    expect(errorText(await call(client, 'recall', { limit: 0 }))).toMatch(/^Invalid limit: /);
    expect(errorText(await call(client, 'recall', { since: 'not a time' }))).toMatch(/^Invalid since: /);
    expect(errorText(await call(client, 'forget', { id: '' }))).toMatch(/^Invalid id: /);

    // Nothing was written by any of those, and the server still works.
    expect(json<{ records: number }>(await call(client, 'stats', {})).records).toBe(0);
    const record = json<MemoryRecord>(await call(client, 'remember', { content: 'still serving', key: 'k' }));
    expect(json<MemoryRecord>(await call(client, 'remember', { content: 'same key', key: 'k' })).id).toBe(record.id);
    expect(json(await call(client, 'forget', { id: record.id }))).toEqual({ id: record.id, forgotten: true });
    expect(json(await call(client, 'forget', { id: record.id }))).toEqual({ id: record.id, forgotten: false });
  });
});

/** The structured answer of a tool; fails the test on an error result or a missing structuredContent. */
function structured<T>(result: CallToolResult): T {
  if (result.isError === true) throw new Error(`tool error: ${JSON.stringify(result.content)}`);
  if (result.structuredContent === undefined) throw new Error(`no structuredContent: ${JSON.stringify(result)}`);
  return result.structuredContent as T;
}

/**
 * Checks a tool's structured answer against the outputSchema the server listed, with the SDK's own
 * JSON Schema validator (the client checks too, once it has listed the tools; this says so in the test).
 */
function expectMatchesOutputSchema(tools: readonly Tool[], name: string, result: CallToolResult): void {
  const tool = tools.find((candidate) => candidate.name === name);
  if (tool?.outputSchema === undefined) throw new Error(`${name} lists no outputSchema`);
  const check = new AjvJsonSchemaValidator().getValidator(tool.outputSchema as JsonSchemaType)(result.structuredContent);
  expect(check.errorMessage, name).toBeUndefined();
  expect(check.valid, name).toBe(true);
}

/** Writes records straight into a store, before a server is started on it. */
async function seed(dir: string, inputs: Parameters<Awaited<ReturnType<typeof openStore>>['rememberMany']>[0]): Promise<MemoryRecord[]> {
  const store = await openStore({ dir });
  try {
    return await store.rememberMany(inputs);
  } finally {
    await store.close();
  }
}

/** The error a resource read was refused with, as the client's McpError. */
async function readError(client: Client, uri: string): Promise<McpError> {
  try {
    await client.readResource({ uri });
  } catch (error) {
    if (error instanceof McpError) return error;
    throw error;
  }
  throw new Error(`reading ${uri} succeeded`);
}

describe('memhub mcp: eleven tools with precise schemas, structured answers, resources, --read-only', { timeout: 120_000 }, () => {
  it('lists remember, update, recall, list, get, history, forget, archive, restore, maintain and stats with the store\'s limits in their schemas, an outputSchema each, and instructions', async () => {
    const { client } = await connect(temp.file('store'), 'schema-reader');
    const { tools } = await client.listTools();
    const tool = (name: string) => tools.find((candidate) => candidate.name === name)!;
    expect(tools.map((candidate) => candidate.name).sort()).toEqual(['archive', 'forget', 'get', 'history', 'list', 'maintain', 'recall', 'remember', 'restore', 'stats', 'update']);
    for (const each of tools) {
      expect(each.inputSchema.additionalProperties, each.name).toBe(false);
      expect(each.outputSchema?.type, each.name).toBe('object');
    }

    const recall = tool('recall').inputSchema.properties!;
    expect(recall['limit']).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    expect(recall['layer']).toMatchObject({ type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' });
    expect(recall['query']).toMatchObject({ type: 'string', maxLength: 2000 });
    expect(JSON.stringify(recall['since'])).toMatch(/30m, 12h, 7d/);
    const remember = tool('remember').inputSchema.properties!;
    expect(remember['content']).toMatchObject({ type: 'string', minLength: 1, maxLength: 1024 * 1024 });
    expect(remember['key']).toMatchObject({ type: 'string', minLength: 1, maxLength: 512 });
    expect(remember['contextPath']).toMatchObject({ type: 'string', pattern: '^/', maxLength: 4096 });
    expect(remember['tags']).toMatchObject({ type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 200 } });
    expect((remember['layer'] as { description: string }).description).toMatch(/Any layer name may be used.*application is the default.*archive/);
    expect(tool('archive').inputSchema).toMatchObject({ minProperties: 1, maxProperties: 1 });
    expect(Object.keys(tool('archive').inputSchema.properties ?? {}).sort()).toEqual(['ids', 'olderThan', 'recallCountBelow']);
    expect(tool('get').inputSchema.required).toEqual(['id']);

    expect(tool('remember').outputSchema?.properties?.['created']).toMatchObject({ type: 'boolean' });
    expect(tool('remember').outputSchema?.required).toContain('created');
    expect(tool('recall').outputSchema?.required).toEqual(['records']);
    expect(tool('get').outputSchema?.required).toEqual(['record']);
    expect(tool('archive').outputSchema?.required).toEqual(['moved']);
    expect(Object.keys(tool('forget').outputSchema?.properties ?? {}).sort()).toEqual(['forgotten', 'id']);
    for (const name of ['recall', 'list', 'get', 'history', 'stats']) expect(tool(name).annotations?.readOnlyHint, name).toBe(true);
    expect(tool('update').inputSchema.required).toEqual(['idOrKey']);
    expect(tool('update').inputSchema.properties?.['ifSeq']).toMatchObject({ type: 'integer', minimum: 1 });
    expect(tool('forget').annotations?.destructiveHint).toBe(true);

    const instructions = client.getInstructions() ?? '';
    expect(instructions).toMatch(/shared by several agents/);
    expect(instructions).toMatch(/Recall before you start a task/);
    expect(instructions).toMatch(/Remember .*decisions.*preferences.*outcomes/s);
    expect(instructions).toMatch(/key/);
  });

  it('every tool works and answers with structuredContent that validates against its outputSchema; since accepts an age such as 7d', async () => {
    const { client } = await connect(temp.file('store'), 'structured-agent');
    // Listed first: the client then checks each answer against its tool's outputSchema as well.
    const { tools } = await client.listTools();

    const first = await call(client, 'remember', { content: 'we chose SQLite for the store', tags: ['decision'], contextPath: '/projects/memhub', key: 'decision:engine' });
    expectMatchesOutputSchema(tools, 'remember', first);
    const record = structured<MemoryRecord & { created: boolean }>(first);
    expect(record).toMatchObject({ content: 'we chose SQLite for the store', tags: ['decision'], contextPath: '/projects/memhub', layer: 'application', key: 'decision:engine', created: true });
    expect(json<MemoryRecord & { created: boolean }>(first)).toEqual(record);
    const again = await call(client, 'remember', { content: 'a second wording of the same decision', key: 'decision:engine' });
    expectMatchesOutputSchema(tools, 'remember', again);
    expect(structured<{ id: string; created: boolean; content: string }>(again)).toMatchObject({ id: record.id, created: false, content: 'we chose SQLite for the store' });
    const note = structured<MemoryRecord>(await call(client, 'remember', { content: 'the user prefers short answers', layer: 'preferences', metadata: { source: 'chat' } }));

    const recent = await call(client, 'recall', { since: '7d', limit: 10 });
    expectMatchesOutputSchema(tools, 'recall', recent);
    const { records } = structured<{ records: MemoryRecord[] }>(recent);
    expect(records.map((found) => found.id)).toEqual([note.id, record.id]);
    expect(json<MemoryRecord[]>(recent)).toEqual(records);
    expect(structured<{ records: MemoryRecord[] }>(await call(client, 'recall', { until: '7d' })).records).toEqual([]);
    expect(structured<{ records: MemoryRecord[] }>(await call(client, 'recall', { since: Date.now() - 60_000, layer: 'preferences' })).records.map((found) => found.id)).toEqual([note.id]);
    expect(structured<{ records: MemoryRecord[] }>(await call(client, 'recall', { query: 'SQLite', tags: ['decision'] })).records.map((found) => found.id)).toEqual([record.id]);

    const got = await call(client, 'get', { id: record.id });
    expectMatchesOutputSchema(tools, 'get', got);
    expect(structured<{ record: MemoryRecord }>(got).record).toMatchObject({ id: record.id, content: record.content });
    const missing = await call(client, 'get', { id: '00000000-0000-7000-8000-000000000000' });
    expectMatchesOutputSchema(tools, 'get', missing);
    expect(missing.isError).toBeFalsy();
    expect(structured(missing)).toEqual({ record: null });

    const archived = await call(client, 'archive', { ids: [record.id, '00000000-0000-7000-8000-000000000000'] });
    expectMatchesOutputSchema(tools, 'archive', archived);
    expect(structured(archived)).toEqual({ moved: 1 });
    // Only the application layer is archived from: the preference stays where it is.
    expect(structured(await call(client, 'archive', { olderThan: '0s' }))).toEqual({ moved: 0 });
    expect(structured(await call(client, 'archive', { recallCountBelow: 1000 }))).toEqual({ moved: 0 });
    expect(structured<{ record: MemoryRecord }>(await call(client, 'get', { id: record.id })).record.layer).toBe('archive');
    const restored = await call(client, 'restore', { ids: [record.id] });
    expectMatchesOutputSchema(tools, 'restore', restored);
    expect(structured(restored)).toEqual({ moved: 1 });
    expect(structured<{ record: MemoryRecord }>(await call(client, 'get', { id: record.id })).record.layer).toBe('application');
    expect(structured(await call(client, 'restore', { ids: [record.id] }))).toEqual({ moved: 0 });

    const updated = await call(client, 'update', { idOrKey: 'decision:engine', content: 'we chose SQLite, and PostgreSQL for teams', ifSeq: record.seq });
    expectMatchesOutputSchema(tools, 'update', updated);
    const newVersion = structured<MemoryRecord>(updated);
    expect(newVersion).toMatchObject({ id: record.id, content: 'we chose SQLite, and PostgreSQL for teams', key: 'decision:engine' });
    expect(errorText(await call(client, 'update', { idOrKey: record.id, content: 'stale', ifSeq: record.seq }))).toMatch(/updated meanwhile/);
    const history = await call(client, 'history', { idOrKey: record.id });
    expectMatchesOutputSchema(tools, 'history', history);
    expect(structured<{ versions: { seq: number }[] }>(history).versions.map((version) => version.seq)).toEqual([record.seq, newVersion.seq]);
    expect(structured(await call(client, 'history', { idOrKey: 'nothing-here' }))).toEqual({ versions: [] });

    const pinned = structured<MemoryRecord>(await call(client, 'remember', { content: 'always check the rota first', pinned: true, ttl: '1s' }));
    expect(pinned).toMatchObject({ pinned: true, expiresAt: expect.any(String) });
    expect(structured<{ records: MemoryRecord[] }>(await call(client, 'recall', { pinned: true })).records.map((found) => found.id)).toEqual([pinned.id]);
    const unpinned = structured<MemoryRecord>(await call(client, 'update', { idOrKey: pinned.id, pinned: false, expiresAt: null }));
    expect(unpinned).not.toHaveProperty('pinned');
    expect(unpinned).not.toHaveProperty('expiresAt');
    const expiring = structured<MemoryRecord>(await call(client, 'remember', { content: 'a short-lived note', expiresAt: Date.now() - 1 }));
    const listed = await call(client, 'list', { limit: 2 });
    expectMatchesOutputSchema(tools, 'list', listed);
    const listedIds = structured<{ records: MemoryRecord[] }>(listed).records.map((found) => found.id);
    // Newest first, the expired one left out, and no recall counted.
    expect(listedIds[0]).toBe(unpinned.id);
    expect(listedIds).not.toContain(expiring.id);
    expect(structured<{ record: MemoryRecord }>(await call(client, 'get', { id: unpinned.id })).record.recallCount).toBe(unpinned.recallCount);
    const maintained = await call(client, 'maintain', {});
    expectMatchesOutputSchema(tools, 'maintain', maintained);
    expect(structured(maintained)).toMatchObject({ archived: 1, forgotten: 0, changes: [{ id: expiring.id, action: 'archive', reason: 'expired' }] });
    expect(errorText(await call(client, 'maintain', { olderThan: 'a while' }))).toMatch(/^Invalid olderThan: /);

    const forgotten = await call(client, 'forget', { id: note.id });
    expectMatchesOutputSchema(tools, 'forget', forgotten);
    expect(structured(forgotten)).toEqual({ id: note.id, forgotten: true });
    expect(structured(await call(client, 'forget', { id: note.id }))).toEqual({ id: note.id, forgotten: false });

    const stats = await call(client, 'stats', {});
    expectMatchesOutputSchema(tools, 'stats', stats);
    expect(structured(stats)).toMatchObject({ engine: 'sqlite', records: 3, recordsByLayer: { application: 2, archive: 1 } });
  });

  it('refuses bad input with a reason the model can read: limit 1e9, a fraction, an unknown field, a bad time, two archive criteria; a line that is not JSON gets a JSON-RPC error', async () => {
    const { client } = await connect(temp.file('store'), 'sloppy-agent');
    expect(errorText(await call(client, 'recall', { limit: 1e9 }))).toBe('Invalid limit: expected an integer from 1 to 1000');
    expect(errorText(await call(client, 'recall', { limit: 2.5 }))).toMatch(/Input validation error: .*limit/s);
    expect(errorText(await call(client, 'recall', { limit: '10' }))).toMatch(/Input validation error: .*limit/s);
    expect(errorText(await call(client, 'recall', { since: '7 days ago, roughly' }))).toMatch(/^Invalid since: expected an ISO 8601 time .* or an age such as 30m, 12h, 7d$/);
    expect(errorText(await call(client, 'recall', { until: 'yesterday' }))).toMatch(/^Invalid until: /);
    expect(errorText(await call(client, 'recall', { sort: 'newest' }))).toMatch(/Input validation error: .*sort/s);
    expect(errorText(await call(client, 'get', { id: 'x', layer: 'application' }))).toMatch(/Input validation error: .*layer/s);
    expect(errorText(await call(client, 'get', {}))).toMatch(/Input validation error: .*id/s);
    expect(errorText(await call(client, 'archive', {}))).toMatch(/^Invalid selector: expected exactly one of ids, olderThan, recallCountBelow; got none/);
    expect(errorText(await call(client, 'archive', { olderThan: '30d', recallCountBelow: 1 }))).toMatch(/^Invalid selector: expected exactly one/);
    expect(errorText(await call(client, 'archive', { olderThan: 'last week' }))).toMatch(/^Invalid olderThan: /);
    expect(errorText(await call(client, 'archive', { recallCountBelow: -1 }))).toMatch(/^Invalid recallCountBelow: /);
    expect(errorText(await call(client, 'remember', { content: 'x', tags: Array.from({ length: 65 }, (_, index) => `t${index}`) }))).toMatch(/^Invalid tags: has 65 tags/);
    expect(errorText(await call(client, 'stats', { verbose: true }))).toMatch(/Input validation error: .*verbose/s);
    expect(structured<{ records: number }>(await call(client, 'stats', {})).records).toBe(0);

    // Below the SDK's client, straight on the server's stdin: every line gets an answer, and the server goes on.
    const server = spawn(process.execPath, memhubArgs(['mcp', '--dir', temp.file('store')]), { cwd: REPO_ROOT, env: cleanEnvironment(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
    const answerTo = async (line: string): Promise<Record<string, unknown>> => {
      server.stdin.write(`${line}\n`);
      // A line the server does not answer would leave the test waiting for its timeout: fail sooner, and say which.
      let timer: NodeJS.Timeout | undefined;
      const unanswered = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to ${line} in 10 s; stderr: ${stderr}`)), 10_000);
      });
      const next = await Promise.race([lines.next(), unanswered]).finally(() => clearTimeout(timer));
      if (next.done === true) throw new Error(`the server closed stdout; stderr: ${stderr}`);
      return JSON.parse(next.value) as Record<string, unknown>;
    };
    const exited = new Promise<number | null>((resolve) => server.on('close', resolve));
    expect(await answerTo('this is not JSON')).toMatchObject({ jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/^Parse error: the line is not JSON/) } });
    expect(await answerTo('{"jsonrpc":"2.0","id":7,"method":42}')).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32600, message: expect.stringMatching(/^Invalid Request: /) } });
    expect(await answerTo('[1, 2, 3]')).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
    expect(await answerTo('{"jsonrpc":"2.0","id":8,"method":"ping"}')).toEqual({ jsonrpc: '2.0', id: 8, result: {} });
    server.stdin.end();
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/Parse error: the line is not JSON/);
  });

  it('resources: one per layer the store has, a layer\'s 100 newest records, a record by id (without counting a recall), and not-found errors', async () => {
    const dir = temp.file('store');
    const notes = await seed(dir, Array.from({ length: 105 }, (_, index) => ({ content: `note ${index}`, layer: 'notes' })));
    const [decision] = await seed(dir, [{ content: 'we deploy on Tuesdays', tags: ['decision'] }]);
    const { client } = await connect(dir, 'browsing-client');

    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(['memhub://layers/application', 'memhub://layers/notes']);
    expect(resources[1]).toMatchObject({ mimeType: 'application/json', description: expect.stringMatching(/^105 records; reading shows the 100 newest/) });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate).sort()).toEqual(['memhub://layers/{layer}', 'memhub://records/{id}']);
    expect(resourceTemplates.find((template) => template.name === 'layer')?.description).toMatch(/100 newest records/);

    const layer = await client.readResource({ uri: 'memhub://layers/notes' });
    expect(layer.contents[0]).toMatchObject({ uri: 'memhub://layers/notes', mimeType: 'application/json' });
    const shown = JSON.parse((layer.contents[0] as { text: string }).text) as { layer: string; newest: number; records: MemoryRecord[] };
    expect(shown.layer).toBe('notes');
    expect(shown.newest).toBe(100);
    expect(shown.records.map((found) => found.content)).toEqual(notes.slice(5).reverse().map((note) => note.content));
    // Browsing is not recalling: reading the layer twice leaves every count at 0.
    await client.readResource({ uri: 'memhub://layers/notes' });
    expect(structured<{ record: MemoryRecord }>(await call(client, 'get', { id: notes[104]!.id })).record.recallCount).toBe(0);
    expect((await client.readResource({ uri: 'memhub://layers/notes' })).contents[0]).toMatchObject({ text: expect.stringContaining('"recallCount":0') });
    expect((await client.readResource({ uri: 'memhub://layers/notes' })).contents[0]).toMatchObject({ text: expect.not.stringContaining('"recallCount":1') });
    const empty = await client.readResource({ uri: 'memhub://layers/nothing-here' });
    expect(JSON.parse((empty.contents[0] as { text: string }).text)).toEqual({ layer: 'nothing-here', newest: 100, records: [] });

    const one = await client.readResource({ uri: `memhub://records/${decision!.id}` });
    const read = JSON.parse((one.contents[0] as { text: string }).text) as MemoryRecord;
    expect(read).toMatchObject({ id: decision!.id, content: 'we deploy on Tuesdays', tags: ['decision'], recallCount: 0 });
    await client.readResource({ uri: `memhub://records/${decision!.id}` });
    expect(structured<{ record: MemoryRecord }>(await call(client, 'get', { id: decision!.id })).record.recallCount).toBe(0);

    const missing = await readError(client, 'memhub://records/00000000-0000-7000-8000-000000000000');
    expect(missing.code).toBe(-32002);
    expect(missing.message).toMatch(/Resource not found: no record has id 00000000-0000-7000-8000-000000000000/);
    const badLayer = await readError(client, 'memhub://layers/Not_A_Layer');
    expect(badLayer.code).toBe(-32602);
    expect(badLayer.message).toMatch(/Invalid layer: "Not_A_Layer" is not a layer name/);
  });

  it('--scope pins a session to one contextPath: it writes there and sees nothing else, through tools and resources', async () => {
    const dir = temp.file('store');
    const [outside] = await seed(dir, [{ content: 'a deploy note of another agent', contextPath: '/agents/bob' }]);
    const { client } = await connect(dir, 'alice', ['--scope', '/agents/alice']);
    const written = structured<MemoryRecord>(await call(client, 'remember', { content: 'alice deploy note', contextPath: '/projects/x' }));
    expect(written.contextPath).toBe('/projects/x');
    expect(structured<{ records: MemoryRecord[] }>(await call(client, 'recall', { query: 'deploy' })).records.map((found) => found.id)).toEqual([written.id]);
    expect(structured<{ record: MemoryRecord | null }>(await call(client, 'get', { id: outside!.id })).record).toBeNull();
    expect(structured<{ forgotten: boolean }>(await call(client, 'forget', { id: outside!.id })).forgotten).toBe(false);
    const layer = await client.readResource({ uri: 'memhub://layers/application' });
    expect(layer.contents.map((content) => (content as { text: string }).text).join('\n')).not.toContain(outside!.id);
    const admin = await openStore({ dir });
    try {
      expect((await admin.get(written.id))?.contextPath).toBe('/agents/alice/projects/x');
      expect(await admin.get(outside!.id)).not.toBeNull();
    } finally {
      await admin.close();
    }
  });

  it('--read-only offers recall, list, get, history and stats and the resources, refuses remember, and needs an existing store', async () => {
    const dir = temp.file('store');
    const [record] = await seed(dir, [{ content: 'read me, do not change me' }]);
    const { client } = await connect(dir, 'read-only-agent', ['--read-only']);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['get', 'history', 'list', 'recall', 'stats']);
    expect(client.getInstructions()).toMatch(/read-only/);

    const refused = await call(client, 'remember', { content: 'sneaking a write in' });
    expect(errorText(refused)).toMatch(/Tool remember not found/);
    expect(errorText(await call(client, 'forget', { id: record!.id }))).toMatch(/Tool forget not found/);
    expect(errorText(await call(client, 'archive', { ids: [record!.id] }))).toMatch(/Tool archive not found/);
    expect(errorText(await call(client, 'update', { idOrKey: record!.id, content: 'changed' }))).toMatch(/Tool update not found/);
    expect(structured<{ records: MemoryRecord[] }>(await call(client, 'recall', {})).records.map((found) => found.id)).toEqual([record!.id]);
    expect(structured<{ record: MemoryRecord }>(await call(client, 'get', { id: record!.id })).record.layer).toBe('application');
    expect(structured<{ records: number }>(await call(client, 'stats', {})).records).toBe(1);
    expect((await client.listResources()).resources.map((resource) => resource.uri)).toEqual(['memhub://layers/application']);

    const noStore = await runMemhub(['mcp', '--read-only', '--dir', temp.file('no-store-here')]);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toMatch(/no memhub store in /);

    const help = await runMemhub(['mcp', '--help']);
    // Commander wraps the help to the terminal's width.
    const helpText = help.stdout.replace(/\s+/g, ' ');
    expect(helpText).toMatch(/tools remember, update, forget, archive, restore, maintain, recall, list, get, history, stats; resources memhub:\/\/layers\/\{layer\}/);
    expect(helpText).toMatch(/--read-only offer only the tools that change no record \(recall, list, get, history, stats\) and the resources/);
  });
});
