import { buildComputer, buildEventId, buildHwid, type CanonicalEvent, type EnrichedEvent, type Finding, type LicenseStatus } from '@calwatch/model';
import type { AlertTiming } from './alert-machine';
import { RULE_NAMES, type RuleName } from './notification';
import type { RuleSettings } from './rule-settings';

/** Builders shared by the notifier's unit tests: valid model values with only what a test varies. */

export const MINUTE = 60_000;
export const T0 = Date.parse('2024-06-12T09:00:00.000Z');

export interface RulePatch {
  enabled?: RuleName[];
  finding?: Partial<RuleSettings['finding']>;
  revocation?: Partial<RuleSettings['revocation']>;
  topOffenders?: number;
}

/** Every rule on, findings from high, a revocation alert clears after an hour. */
export function ruleSettings(patch: RulePatch = {}): RuleSettings {
  return {
    enabled: new Set(patch.enabled ?? RULE_NAMES),
    finding: { minSeverity: 'high', ...patch.finding },
    revocation: { clearAfterMs: 60 * MINUTE, ...patch.revocation },
    topOffenders: patch.topOffenders ?? 3,
  };
}

export const timing: AlertTiming = { updateIntervalMs: 30 * MINUTE, quietPeriodMs: 60 * MINUTE, reopenCooldownMs: 0 };

let counter = 0;

function envelope(at: number, server: string) {
  counter++;
  return {
    schemaVersion: 1 as const,
    eventId: buildEventId('fixture', counter, at),
    eventTime: new Date(at).toISOString(),
    observedTime: new Date(at).toISOString(),
    source: { kind: 'simulator' as const, ref: 'fixture' },
    licenseServer: server,
  };
}

export function issued(at: number, options: { server?: string; computer?: string; keyPackId?: number; status?: LicenseStatus; hwid?: string } = {}): CanonicalEvent {
  const computer = options.computer ?? `PC-${counter}`;
  return {
    ...envelope(at, options.server ?? 'LS01'),
    type: 'license.issued',
    license: {
      licenseId: counter,
      keyPackId: options.keyPackId ?? 3,
      hwid: buildHwid(options.hwid ?? `0x${(counter + 4096).toString(16)}`)!,
      computer: buildComputer(computer),
      user: null,
      issueDate: new Date(at).toISOString(),
      expirationDate: null,
      status: options.status ?? 'active',
    },
  };
}

export function keyPack(at: number, options: { server?: string; keyPackId?: number; product?: string; available: number; total: number }): CanonicalEvent {
  return {
    ...envelope(at, options.server ?? 'LS01'),
    type: 'keypack.inventory',
    keyPack: {
      keyPackId: options.keyPackId ?? 3,
      keyPackType: 2,
      productVersion: options.product ?? 'Windows Server 2019',
      productVersionId: 5,
      description: 'RDS per device',
      typeAndModel: 'RDS Per Device CAL',
      totalLicenses: options.total,
      availableLicenses: options.available,
      issuedLicenses: options.total - options.available,
      expirationDate: null,
    },
  };
}

export function revocationLimit(at: number, options: { server?: string; product?: string; nextAllowed?: string | null; client?: string } = {}): CanonicalEvent {
  return {
    ...envelope(at, options.server ?? 'LS01'),
    type: 'service.event',
    event: {
      code: 81,
      channel: 'System',
      provider: 'Microsoft-Windows-TerminalServices-Licensing',
      recordId: null,
      host: options.server ?? 'LS01',
      level: 'Error',
      params: {},
      meaning: 'revocation-limit-reached',
      product: options.product ?? 'Windows Server 2019',
      remainingCals: null,
      revokedCount: 20,
      installedCount: 100,
      nextRevokeAllowedAt: options.nextAllowed ?? null,
      client: buildComputer(options.client ?? 'PC-9'),
      sessionHost: null,
    },
  };
}

/** Event 21: no permanent CALs left for the product. */
export function poolExhausted(at: number, options: { server?: string; product?: string } = {}): CanonicalEvent {
  const base = revocationLimit(at, options);
  if (base.type !== 'service.event') throw new Error('unreachable');
  return { ...base, event: { ...base.event, code: 21, level: 'Warning', meaning: 'pool-exhausted', revokedCount: null, installedCount: null, client: null } };
}

export function enriched(event: CanonicalEvent, context: Partial<EnrichedEvent['context']> = {}): EnrichedEvent {
  return {
    schemaVersion: 2,
    event,
    context: { hwidLicenseCount: 0, hwidLicenseIds: [], hwidComputerCount: 0, hwidComputers: [], computerHwidCount: 0, computerHwids: [], classification: 'healthy', findingIds: [], ...context },
  };
}

export function finding(overrides: Partial<Finding> = {}): Finding {
  const at = new Date(T0).toISOString();
  return {
    schemaVersion: 2,
    id: 'f-cloned-1',
    kind: 'cloned-image',
    state: 'open',
    severity: 'high',
    licenseServer: 'LS01',
    productVersion: 'Windows Server 2019',
    hwidCount: 1,
    hwids: ['0201abcd'],
    computerCount: 3,
    computers: ['VDI-001', 'VDI-002', 'VDI-003'],
    licenseCount: 3,
    licenseIds: [1, 2, 3],
    leakedCals: 2,
    reclaimableLicenseIds: [2, 3],
    revokePlan: [],
    firstSeen: at,
    lastSeen: at,
    updatedAt: at,
    revision: 1,
    timeline: [],
    summary: '3 devices share one HardwareID',
    remediation: 'Regenerate the HardwareID on the clones.',
    ...overrides,
  };
}

/** The processor's leak-rate-spike finding for LS01 / Windows Server 2019: no CALs of its own to reclaim. */
export function spikeFinding(overrides: Partial<Finding> = {}): Finding {
  return finding({
    id: 'leak-rate-spike:ls01-2019',
    kind: 'leak-rate-spike',
    hwidCount: 0,
    hwids: [],
    computerCount: 0,
    computers: [],
    licenseCount: 0,
    licenseIds: [],
    leakedCals: 0,
    reclaimableLicenseIds: [],
    summary: '64 new Windows Server 2019 per-device CALs on LS01 since 2024-06-12: 64 on 2024-06-12 against a median of 3 per day',
    remediation: 'Find what took the CALs on LS01.',
    ...overrides,
  });
}
