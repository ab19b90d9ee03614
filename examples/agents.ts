// Several agent processes sharing one memory store.
//
//   pnpm start            (from the repository root)
//
// Four agent processes open one store folder (.memhub/agents-demo in the folder where you run
// it) and, once all four have it open, start at the same moment. Each remembers 500 notes, 16 at
// a time, and recalls what the next agent wrote while they write. Then the parent checks the
// store: every acknowledged note is there exactly once, and the recall counts the agents wrote
// add up to the hits they saw.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '@memhub/store';

const AGENTS = 4;
const NOTES = 500;
const IN_FLIGHT = 16;

interface AgentReport {
  agent: number;
  remembered: number;
  recalls: number;
  hits: number;
  ms: number;
  maxLatencyMs: number;
}

/** One agent: opens the store, says `ready`, and on `go` remembers its notes and recalls the next agent's while it goes. */
async function runAgent(dir: string, agent: number): Promise<void> {
  const store = await openStore({ dir });
  const commands = createInterface({ input: process.stdin });
  console.log('ready');
  await once(commands, 'line');
  commands.close();
  const started = performance.now();
  let next = 0;
  let recalls = 0;
  let hits = 0;
  let maxLatencyMs = 0;
  const lane = async () => {
    while (next < NOTES) {
      const index = next++;
      const before = performance.now();
      await store.remember({
        content: `agent ${agent} observed fact number ${index} about the deployment`,
        tags: [`agent-${agent}`, index % 2 === 0 ? 'even' : 'odd'],
        contextPath: `/agents/${agent}`,
        key: `agent-${agent}-note-${index}`,
      });
      maxLatencyMs = Math.max(maxLatencyMs, performance.now() - before);
      if (index % 10 === 0) {
        recalls += 1;
        // Await first, then add: `hits += await ...` would read `hits` before the await, and the
        // lanes would overwrite each other's additions (a lost update, in miniature).
        const found = await store.recall({ query: 'deployment fact', tags: [`agent-${(agent + 1) % AGENTS}`], limit: 5 });
        hits += found.length;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  await store.close();
  const report: AgentReport = { agent, remembered: NOTES, recalls, hits, ms: performance.now() - started, maxLatencyMs };
  console.log(JSON.stringify(report));
}

async function main(): Promise<void> {
  // pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
  const dir = resolve(process.env['INIT_CWD'] ?? process.cwd(), '.memhub', 'agents-demo');
  rmSync(dir, { recursive: true, force: true });
  console.log(`${AGENTS} agent processes x ${NOTES} notes (${IN_FLIGHT} in flight each) on one store: ${dir}\n`);
  // Starting a process (and compiling this file) takes longer than an agent's work: each agent
  // says `ready` once its store is open, and all of them get `go` together, so that they really
  // write at the same time and the throughput below counts the writing only.
  let started = 0;
  let ready = 0;
  const agents = Array.from({ length: AGENTS }, (_, agent) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'agent', dir, String(agent)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const report = new Promise<AgentReport>((resolveReport, reject) => {
      let last = '';
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line !== 'ready') last = line;
        else if (++ready === AGENTS) {
          started = performance.now();
          for (const { child: each } of agents) each.stdin.write('go\n');
        }
      });
      child.on('exit', (code) => (code === 0 ? resolveReport(JSON.parse(last) as AgentReport) : reject(new Error(`agent ${agent} exited with ${code}`))));
    });
    return { child, report };
  });
  const reports = await Promise.all(agents.map(({ report }) => report));
  const elapsedMs = performance.now() - started;

  console.log('  agent  remembered  recalls  hits  max latency ms');
  for (const report of reports) {
    console.log(
      `  ${String(report.agent).padStart(5)}  ${String(report.remembered).padStart(10)}  ${String(report.recalls).padStart(7)}` +
        `  ${String(report.hits).padStart(4)}  ${report.maxLatencyMs.toFixed(1).padStart(14)}`,
    );
  }

  const store = await openStore({ dir });
  const stats = await store.stats();
  let missing = 0;
  let countedRecalls = 0;
  for (let agent = 0; agent < AGENTS; agent += 1) {
    const found = await store.recall({ contextPath: `/agents/${agent}`, limit: 1000 });
    missing += NOTES - found.length;
    // Each count includes this very recall (+1): the rest are the agents' own recalls.
    for (const record of found) countedRecalls += record.recallCount - 1;
  }
  await store.close();
  const expected = AGENTS * NOTES;
  const hits = reports.reduce((sum, report) => sum + report.hits, 0);
  console.log(`\nin the store: ${stats.records} records (expected ${expected}), ${missing} missing`);
  console.log(`recall counts in the store: ${countedRecalls} (the agents saw ${hits} hits)`);
  console.log(`throughput: ${((expected / elapsedMs) * 1000).toFixed(0)} remembers/s across ${AGENTS} processes`);
  const ok = stats.records === expected && missing === 0 && countedRecalls === hits;
  console.log(ok ? 'OK: nothing lost, nothing doubled.' : 'FAIL: the store does not hold exactly what was acknowledged.');
  if (!ok) process.exitCode = 1;
}

const [role, dir, agent] = process.argv.slice(2);
if (role === 'agent' && dir !== undefined) await runAgent(dir, Number(agent));
else await main();
