import { type KafkaClient } from '@calwatch/kafka';
import { type Finding, type FindingKind, FindingRecord, parseRecordJson } from '@calwatch/model';
import { readWholeTopic } from './read-topic';

/**
 * The latest revision of every finding on a findings topic (read from the start to its
 * current end, outside any consumer group). Records that are not findings are skipped:
 * the processor dead-letters its own failures, this is a read-only view.
 */
export async function readLatestFindings(kafka: KafkaClient, topic: string): Promise<Finding[]> {
  const latest = new Map<string, Finding>();
  await readWholeTopic(kafka, topic, (records) => {
    for (const record of records) {
      const finding = decodeFinding(record.value);
      if (finding !== undefined) keepLatest(latest, finding);
    }
  });
  return [...latest.values()];
}

/** A findings-topic record value as a Finding; undefined for a tombstone or anything not a finding. */
export function decodeFinding(value: Buffer | null): Finding | undefined {
  const json = parseRecordJson(value);
  if (!json.ok) return undefined;
  const parsed = FindingRecord.safeParse(json.value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Keeps the highest revision per finding id (a later record of the same revision wins).
 * Returns whether `finding` was kept.
 */
export function keepLatest(latest: Map<string, Finding>, finding: Finding): boolean {
  const known = latest.get(finding.id);
  if (known !== undefined && finding.revision < known.revision) return false;
  latest.set(finding.id, finding);
  return true;
}

export interface FindingsSummary {
  open: number;
  resolved: number;
  byKind: Partial<Record<FindingKind, { open: number; resolved: number; leakedCals: number }>>;
  /** Sum of leakedCals over open findings. */
  leakedCals: number;
  /** Distinct licenses a fix would reclaim, over open findings. */
  reclaimableCals: number;
}

export function summariseFindings(findings: readonly Finding[]): FindingsSummary {
  const summary: FindingsSummary = { open: 0, resolved: 0, byKind: {}, leakedCals: 0, reclaimableCals: 0 };
  const reclaimable = new Set<string>();
  let beyondLists = 0;
  for (const f of findings) {
    const entry = (summary.byKind[f.kind] ??= { open: 0, resolved: 0, leakedCals: 0 });
    if (f.state === 'open') {
      summary.open += 1;
      entry.open += 1;
      entry.leakedCals += f.leakedCals;
      summary.leakedCals += f.leakedCals;
      // A CAL can be in two findings (a clone whose name was also rebuilt): counted once,
      // as far as the finding's bounded list names them; beyond it only its count is known.
      if (f.reclaimableLicenseIds.length < f.leakedCals) beyondLists += f.leakedCals;
      else for (const id of f.reclaimableLicenseIds) reclaimable.add(`${f.licenseServer}|${id}`);
    } else {
      summary.resolved += 1;
      entry.resolved += 1;
    }
  }
  summary.reclaimableCals = reclaimable.size + beyondLists;
  return summary;
}
