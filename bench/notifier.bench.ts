/**
 * Notifier decision throughput: the pure core (rules, alert machine, routing) over a VDI
 * storm — CALs issued to thousands of non-persistent desktops across two license servers
 * and two products, with key-pack inventories and finding updates — flushing its dirty
 * state as JSON every 500 records the way the service does per batch. Reports inputs per
 * second and the size of the state written.
 *
 *   npx tsx bench/notifier.bench.ts [--events N]
 */
import { pathToFileURL } from 'node:url';
import { buildComputer, buildEventId, buildHwid, type EnrichedEvent, type Finding } from '@calwatch/model';
import { createNotifierCore, loadNotifierConfig } from '@calwatch/notifier';
import type { BenchResult } from './run';

const START = Date.parse('2024-06-12T08:00:00.000Z');

function issued(i: number, at: number): EnrichedEvent {
  const server = i % 3 === 0 ? 'LS02' : 'LS01';
  const now = new Date(at).toISOString();
  return {
    schemaVersion: 2,
    event: {
      schemaVersion: 1,
      eventId: buildEventId('bench', i),
      eventTime: now,
      observedTime: now,
      source: { kind: 'simulator', ref: 'bench' },
      licenseServer: server,
      type: 'license.issued',
      license: {
        licenseId: i,
        keyPackId: 3 + (i % 2),
        hwid: buildHwid((0x100000 + i).toString(16))!,
        computer: buildComputer(`VDI-${String(i % 5000).padStart(4, '0')}`),
        user: null,
        issueDate: now,
        expirationDate: null,
        status: i % 4 === 0 ? 'temporary' : 'active',
      },
    },
    context: { hwidLicenseCount: 1, hwidLicenseIds: [i], hwidComputerCount: 0, hwidComputers: [], computerHwidCount: 0, computerHwids: [], classification: i % 5 === 0 ? 'healthy' : 'hwid-churn', findingIds: [`f-${i % 40}`] },
  };
}

function keyPack(i: number, at: number, server: string, keyPackId: number): EnrichedEvent {
  const now = new Date(at).toISOString();
  return {
    schemaVersion: 2,
    event: {
      schemaVersion: 1,
      eventId: buildEventId('bench-kp', i),
      eventTime: now,
      observedTime: now,
      source: { kind: 'simulator', ref: 'bench' },
      licenseServer: server,
      type: 'keypack.inventory',
      keyPack: {
        keyPackId,
        keyPackType: 2,
        productVersion: keyPackId === 3 ? 'Windows Server 2019' : 'Windows Server 2022',
        productVersionId: null,
        description: 'bench',
        typeAndModel: 'RDS Per Device CAL',
        totalLicenses: 20_000,
        availableLicenses: Math.max(0, 20_000 - i),
        issuedLicenses: Math.min(20_000, i),
        expirationDate: null,
      },
    },
    context: { hwidLicenseCount: 0, hwidLicenseIds: [], hwidComputerCount: 0, hwidComputers: [], computerHwidCount: 0, computerHwids: [], classification: 'healthy', findingIds: [] },
  };
}

function finding(i: number, at: number): Finding {
  const now = new Date(at).toISOString();
  return {
    schemaVersion: 2,
    id: `f-${i % 40}`,
    kind: 'hwid-churn',
    state: 'open',
    severity: i % 3 === 0 ? 'critical' : 'high',
    licenseServer: 'LS01',
    productVersion: 'Windows Server 2019',
    hwidCount: 0,
    hwids: [],
    computerCount: 20,
    computers: Array.from({ length: 20 }, (_, k) => `VDI-${k}`),
    licenseCount: 0,
    licenseIds: [],
    leakedCals: i % 500,
    reclaimableLicenseIds: [],
    revokePlan: [],
    firstSeen: new Date(START).toISOString(),
    lastSeen: now,
    updatedAt: now,
    revision: i,
    timeline: [],
    summary: 'churn',
    remediation: 'persist MSLicensing',
  };
}

export async function runNotifierBench(events = 200_000): Promise<BenchResult> {
  const config = loadNotifierConfig({
    NOTIFIER_TARGETS: JSON.stringify([
      { name: 'pd', type: 'pagerduty', routingKey: 'k' },
      { name: 'slack', type: 'slack', url: 'https://hooks.slack.example/x', minSeverity: 'critical' },
    ]),
  });
  const core = createNotifierCore({
    rules: config.rules,
    timing: config.timing,
    routes: config.targets.map((t) => ({ name: t.name, minSeverity: t.minSeverity, rules: t.rules ?? null, licenseServers: t.licenseServers ?? null })),
    links: config.links,
    idleAdvanceAfterMs: config.idleAdvanceAfterMs,
  });
  // Two hours of a storm: one CAL every ~36 ms of event time at 200k events.
  const stepMs = (2 * 3600_000) / events;
  const batch = 500;
  let stateBytes = 0;
  let stateRecords = 0;
  let deliveries = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < events; i++) {
    const at = START + Math.floor(i * stepMs);
    const wall = at + 2_000;
    if (i % 5_000 === 0) {
      for (const [server, id] of [['LS01', 3], ['LS01', 4], ['LS02', 3], ['LS02', 4]] as const) core.applyEnriched(keyPack(i, at, server, id), wall);
    }
    if (i % 1_000 === 0) core.applyFinding(finding(i, at), wall);
    core.applyEnriched(issued(i, at), wall);
    if (i % batch === batch - 1) {
      for (const record of core.takeDirty(wall)) {
        stateRecords++;
        stateBytes += record.value === null ? 0 : JSON.stringify(record.value).length;
      }
      for (const d of core.takeDeliveries()) {
        deliveries++;
        core.markDelivered(d.dedupKey, d.seq, d.target, wall);
      }
      core.decide(wall);
      core.tick(wall);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    name: 'notifier-core',
    metrics: {
      inputs: events,
      inputsPerSecond: Math.round(events / seconds),
      stateRecordsWritten: stateRecords,
      stateBytesPerBatch: Math.round(stateBytes / (events / batch)),
      deliveries,
      peakRssBytes: process.memoryUsage().rss,
    },
    notes: 'pure core only (no Kafka, no HTTP); state serialised per 500-record batch as the service writes it',
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--events');
  const events = at === -1 ? undefined : Number(process.argv[at + 1]);
  runNotifierBench(events).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
