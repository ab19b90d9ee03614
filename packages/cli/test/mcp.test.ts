import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type MemoryRecord } from '@memhub/store';
import { cleanEnvironment, memhubArgs, REPO_ROOT, useTempFolder } from './support/memhub-process.js';

const temp = useTempFolder('memhub-cli-mcp-');
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

/** Starts `memhub mcp --dir <dir>` and connects the SDK's own client to it over stdio. */
async function connect(dir: string, name: string): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: memhubArgs(['mcp', '--dir', dir]),
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
    expect(tools.map((tool) => tool.name).sort()).toEqual(['forget', 'recall', 'remember', 'stats']);
    const remember = tools.find((tool) => tool.name === 'remember')!;
    expect(remember.inputSchema.required).toEqual(['content']);
    expect(Object.keys(remember.inputSchema.properties ?? {}).sort()).toEqual(['content', 'contextPath', 'key', 'layer', 'metadata', 'tags']);

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
