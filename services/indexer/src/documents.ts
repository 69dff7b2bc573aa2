import type { CanonicalEvent, EnrichedEvent, Finding, PlannedRevocation, Severity } from '@calwatch/model';

/**
 * Document builders: a Finding or an EnrichedEvent in, the Elasticsearch document out.
 * ECS names where ECS has the field (`@timestamp`, `event.*`, `host.*`, `user.name`,
 * `related.*`), everything else under `calwatch.*`. Every field written here is in
 * mappings.ts (a test indexes each shape against the mapping's field list).
 */

export type Document = Record<string, unknown>;

const SEVERITY_RANK: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

/** ECS `event.type` for each calwatch event type. */
const ECS_EVENT_TYPE: Record<CanonicalEvent['type'], string> = {
  'license.issued': 'creation',
  'license.renewed': 'change',
  'license.upgraded': 'change',
  'license.revoked': 'deletion',
  'license.returned': 'deletion',
  'keypack.inventory': 'info',
  'service.event': 'info',
  'client.store': 'info',
};

function uniq(values: Iterable<string | null | undefined>): string[] {
  const seen = new Set<string>();
  for (const value of values) if (value !== null && value !== undefined && value !== '') seen.add(value);
  return [...seen];
}

function eventSpecific(event: CanonicalEvent): { host: Document; user: Document | undefined; calwatch: Document; ecs: Document; hosts: string[] } {
  switch (event.type) {
    case 'license.issued':
    case 'license.renewed':
    case 'license.upgraded':
    case 'license.revoked':
    case 'license.returned': {
      const { license } = event;
      const fact: Document = {
        id: license.licenseId,
        keypack_id: license.keyPackId,
        status: license.status,
        issue_date: license.issueDate,
        expiration_date: license.expirationDate,
      };
      if (event.type === 'license.upgraded' || event.type === 'license.revoked') fact['previous_status'] = event.previousStatus;
      if (event.type === 'license.renewed') fact['previous_expiration_date'] = event.previousExpirationDate;
      if (event.type === 'license.returned') fact['return_reason'] = event.reason;
      return {
        host: { name: license.computer.norm, id: license.hwid.norm },
        user: license.user === null ? undefined : { name: license.user },
        calwatch: {
          hwid: license.hwid.norm,
          hwid_raw: license.hwid.raw,
          computer: license.computer.norm,
          computer_raw: license.computer.raw,
          license: fact,
        },
        ecs: {},
        hosts: [license.computer.norm],
      };
    }
    case 'keypack.inventory': {
      const k = event.keyPack;
      return {
        host: { name: event.licenseServer },
        user: undefined,
        calwatch: {
          keypack: {
            id: k.keyPackId,
            type: k.keyPackType,
            product_version: k.productVersion,
            product_version_id: k.productVersionId,
            description: k.description,
            type_and_model: k.typeAndModel,
            total_licenses: k.totalLicenses,
            available_licenses: k.availableLicenses,
            issued_licenses: k.issuedLicenses,
            expiration_date: k.expirationDate,
          },
        },
        ecs: {},
        hosts: [],
      };
    }
    case 'service.event': {
      const s = event.event;
      return {
        host: { name: s.host },
        user: undefined,
        calwatch: {
          ...(s.client === null ? {} : { computer: s.client.norm, computer_raw: s.client.raw }),
          service: {
            code: s.code,
            channel: s.channel,
            provider: s.provider,
            record_id: s.recordId,
            host: s.host,
            level: s.level,
            meaning: s.meaning,
            product: s.product,
            remaining_cals: s.remainingCals,
            revoked_count: s.revokedCount,
            installed_count: s.installedCount,
            next_revoke_allowed_at: s.nextRevokeAllowedAt,
            client: s.client?.norm ?? null,
            session_host: s.sessionHost,
            params: s.params,
          },
        },
        ecs: { code: String(s.code), provider: s.provider },
        hosts: uniq([s.host, s.client?.norm, s.sessionHost]),
      };
    }
    case 'client.store':
      return {
        host: { name: event.computer.norm },
        user: undefined,
        calwatch: {
          computer: event.computer.norm,
          computer_raw: event.computer.raw,
          client_store: { hwids: event.hwids.map((h) => h.norm), hwid_count: event.hwids.length },
        },
        ecs: {},
        hosts: [event.computer.norm],
      };
  }
}

/** `ingestedAt` is when the indexer built the document (ECS event.ingested). */
export function buildEnrichedDocument(enriched: EnrichedEvent, ingestedAt: string): Document {
  const { event, context } = enriched;
  const specific = eventSpecific(event);
  const log = event.type === 'service.event' && event.event.level !== null ? { level: event.event.level } : undefined;
  return {
    '@timestamp': event.eventTime,
    event: {
      id: event.eventId,
      kind: 'event',
      category: ['configuration'],
      type: [ECS_EVENT_TYPE[event.type]],
      action: event.type,
      dataset: 'calwatch.enriched',
      module: 'calwatch',
      created: event.observedTime,
      ingested: ingestedAt,
      ...specific.ecs,
    },
    host: specific.host,
    ...(specific.user === undefined ? {} : { user: specific.user }),
    ...(log === undefined ? {} : { log }),
    related: {
      hosts: uniq([event.licenseServer, ...specific.hosts, ...context.hwidComputers]),
      ...(specific.user === undefined ? {} : { user: [specific.user['name'] as string] }),
    },
    calwatch: {
      schema_version: enriched.schemaVersion,
      license_server: event.licenseServer,
      source: { kind: event.source.kind, ref: event.source.ref },
      ...specific.calwatch,
      context: {
        classification: context.classification,
        finding_ids: context.findingIds,
        hwid_license_ids: context.hwidLicenseIds,
        hwid_license_count: context.hwidLicenseCount,
        hwid_computers: context.hwidComputers,
        hwid_computer_count: context.hwidComputerCount,
        computer_hwids: context.computerHwids,
        computer_hwid_count: context.computerHwidCount,
      },
    },
  };
}

export function buildFindingDocument(finding: Finding, ingestedAt: string): Document {
  const nextRevoke = finding.revokePlan.reduce<string | null>(
    (earliest, batch) => (earliest === null || batch.notBefore < earliest ? batch.notBefore : earliest),
    null,
  );
  return {
    '@timestamp': finding.updatedAt,
    event: {
      id: finding.id,
      kind: 'alert',
      category: ['configuration'],
      type: ['info'],
      action: `finding.${finding.kind}`,
      dataset: 'calwatch.findings',
      module: 'calwatch',
      severity: SEVERITY_RANK[finding.severity],
      created: finding.firstSeen,
      start: finding.firstSeen,
      end: finding.lastSeen,
      ingested: ingestedAt,
    },
    host: { name: finding.computers, id: finding.hwids },
    related: { hosts: uniq([finding.licenseServer, ...finding.computers]) },
    calwatch: {
      schema_version: finding.schemaVersion,
      license_server: finding.licenseServer,
      finding: {
        id: finding.id,
        kind: finding.kind,
        state: finding.state,
        status: finding.state === 'open' ? (finding.status ?? 'active') : null,
        severity: finding.severity,
        product_version: finding.productVersion,
        hwids: finding.hwids,
        hwid_count: finding.hwidCount,
        computers: finding.computers,
        computer_count: finding.computerCount,
        license_ids: finding.licenseIds,
        license_count: finding.licenseCount,
        leaked_cals: finding.leakedCals,
        reclaimable_license_ids: finding.reclaimableLicenseIds,
        reclaimable_cals: finding.leakedCals,
        // Summaries: the revocations index has every license of every batch.
        revoke_plan: finding.revokePlan.map((batch) => ({
          not_before: batch.notBefore,
          product: batch.product,
          license_ids: batch.licenseIds,
          license_count: batch.count,
        })),
        revoke_batch_count: finding.revokePlan.length,
        next_revoke_at: nextRevoke,
        first_seen: finding.firstSeen,
        last_seen: finding.lastSeen,
        updated_at: finding.updatedAt,
        revision: finding.revision,
        summary: finding.summary,
        remediation: finding.remediation,
        timeline: finding.timeline.map((entry) => ({ at: entry.at, event_id: entry.eventId, note: entry.note })),
        timeline_count: finding.timeline.length,
      },
    },
  };
}

/** A row of the revoke table; a withdrawn revocation deletes it (see batch-plan). */
export function buildRevocationDocument(revocation: PlannedRevocation, ingestedAt: string): Document {
  return {
    '@timestamp': revocation.updatedAt,
    event: {
      id: `${revocation.licenseServer}|${revocation.licenseId}`,
      kind: 'state',
      category: ['configuration'],
      type: ['change'],
      action: 'revocation.planned',
      dataset: 'calwatch.revocations',
      module: 'calwatch',
      start: revocation.notBefore,
      ingested: ingestedAt,
    },
    related: { hosts: [revocation.licenseServer] },
    calwatch: {
      schema_version: revocation.schemaVersion,
      license_server: revocation.licenseServer,
      revocation: {
        license_id: revocation.licenseId,
        finding_id: revocation.findingId,
        kind: revocation.kind,
        key_pack_id: revocation.keyPackId,
        product_version: revocation.productVersion,
        batch: revocation.batch,
        not_before: revocation.notBefore,
        expires_at: revocation.expiresAt,
        updated_at: revocation.updatedAt,
      },
    },
  };
}

/**
 * The external version of a finding document: updatedAt (ms) then revision. Elasticsearch
 * keeps the document with the highest version (external_gte), so a late or replayed older
 * update can never overwrite a newer one, and re-delivery of the same update rewrites it.
 * Returned as a decimal string: the value exceeds 2^53, which JSON numbers in JS cannot hold.
 */
export function buildFindingVersion(finding: Pick<Finding, 'updatedAt' | 'revision'>): string {
  // Versions must be non-negative; no finding predates 1970.
  const ms = BigInt(Math.max(0, Date.parse(finding.updatedAt)));
  // Six decimal digits for the revision within one millisecond; beyond that it saturates
  // (a million updates of one finding in one millisecond of event time does not happen).
  const revision = BigInt(Math.min(finding.revision, 999_999));
  return (ms * 1_000_000n + revision).toString();
}

/** Compares two findings the way Elasticsearch will compare their versions. */
export function isNewerOrSameFinding(a: Pick<Finding, 'updatedAt' | 'revision'>, b: Pick<Finding, 'updatedAt' | 'revision'>): boolean {
  return BigInt(buildFindingVersion(a)) >= BigInt(buildFindingVersion(b));
}
