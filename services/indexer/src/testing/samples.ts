import { buildComputer, buildEventId, buildHwid, type EnrichedEvent, type Finding, type Hwid, type PlannedRevocation } from '@calwatch/model';

/**
 * Valid findings and enriched events for tests, benchmarks and demos: the shapes the
 * processor emits, with every optional part filled so documents exercise the whole mapping.
 */

function hwid(raw: string): Hwid {
  const value = buildHwid(raw);
  if (value === undefined) throw new RangeError(`not an HWID: ${raw}`);
  return value;
}

export interface SampleEventOptions {
  seq?: number;
  eventTime?: string;
  hwid?: string;
  computer?: string;
  classification?: EnrichedEvent['context']['classification'];
}

/** A license.issued event with its chain context; `seq` makes ids and license ids unique. */
export function buildSampleLicenseEvent(options: SampleEventOptions = {}): EnrichedEvent {
  const seq = options.seq ?? 1;
  const eventTime = options.eventTime ?? '2026-11-20T10:00:00.000Z';
  const computer = options.computer ?? `PC-${String(seq % 1000).padStart(3, '0')}`;
  const hw = hwid(options.hwid ?? `0x00000002-${(0x1a2b0000 + seq).toString(16)}`);
  return {
    schemaVersion: 2,
    event: {
      schemaVersion: 1,
      eventId: buildEventId('sample', 'license.issued', seq),
      eventTime,
      observedTime: eventTime,
      source: { kind: 'simulator', ref: 'samples' },
      licenseServer: 'LS01',
      type: 'license.issued',
      license: {
        licenseId: 1000 + seq,
        keyPackId: 3,
        hwid: hw,
        computer: buildComputer(`${computer.toLowerCase()}.corp.example`),
        user: 'jdoe',
        issueDate: eventTime,
        expirationDate: '2027-02-18T10:00:00.000Z',
        status: 'temporary',
      },
    },
    context: {
      hwidLicenseCount: 1,
      hwidLicenseIds: [1000 + seq],
      hwidComputerCount: 1,
      hwidComputers: [computer],
      computerHwidCount: 1,
      computerHwids: [hw.norm],
      classification: options.classification ?? 'healthy',
      findingIds: [],
    },
  };
}

/** One enriched event of every canonical type (same time), for mapping coverage. */
export function buildSampleEnrichedEventsOfEveryType(eventTime = '2026-11-20T10:00:00.000Z'): EnrichedEvent[] {
  const base = buildSampleLicenseEvent({ seq: 7, eventTime, classification: 'cloned-image' });
  if (base.event.type !== 'license.issued') throw new Error('unreachable');
  const envelope = { ...base.event };
  const license = base.event.license;
  const context = { ...base.context, findingIds: ['f-cloned-1'] };
  const id = (type: string): string => buildEventId('sample-every-type', type, eventTime);
  return [
    base,
    { schemaVersion: 2, context, event: { ...envelope, eventId: id('renewed'), type: 'license.renewed', license, previousExpirationDate: '2026-12-01T00:00:00.000Z' } },
    { schemaVersion: 2, context, event: { ...envelope, eventId: id('upgraded'), type: 'license.upgraded', license: { ...license, status: 'active' }, previousStatus: 'temporary' } },
    { schemaVersion: 2, context, event: { ...envelope, eventId: id('revoked'), type: 'license.revoked', license: { ...license, status: 'revoked' }, previousStatus: 'active' } },
    { schemaVersion: 2, context, event: { ...envelope, eventId: id('returned'), type: 'license.returned', license, reason: 'expired' } },
    {
      schemaVersion: 2,
      context: { ...context, classification: 'healthy' },
      event: {
        schemaVersion: 1,
        eventId: id('keypack'),
        eventTime,
        observedTime: eventTime,
        source: { kind: 'wmi-keypacks', ref: 'keypacks.csv' },
        licenseServer: 'LS01',
        type: 'keypack.inventory',
        keyPack: {
          keyPackId: 3,
          keyPackType: 2,
          productVersion: 'Windows Server 2022',
          productVersionId: 6,
          description: 'RDS Per Device CAL',
          typeAndModel: 'RDS Per Device CAL',
          totalLicenses: 100,
          availableLicenses: 12,
          issuedLicenses: 88,
          expirationDate: null,
        },
      },
    },
    {
      schemaVersion: 2,
      context: { ...context, classification: 'pool-exhaustion' },
      event: {
        schemaVersion: 1,
        eventId: id('service'),
        eventTime,
        observedTime: eventTime,
        source: { kind: 'evtx-xml', ref: 'System.xml' },
        licenseServer: 'LS01',
        type: 'service.event',
        event: {
          code: 21,
          channel: 'System',
          provider: 'Microsoft-Windows-TerminalServices-Licensing',
          recordId: '1234',
          host: 'LS01',
          level: 'warning',
          params: { param1: 'LS01', param2: 'RDS Per Device CAL', param3: 'RDSH01' },
          meaning: 'pool-exhausted',
          product: 'RDS Per Device CAL',
          remainingCals: 0,
          revokedCount: 4,
          installedCount: 100,
          nextRevokeAllowedAt: '2026-12-01T00:00:00.000Z',
          client: buildComputer('PC-007'),
          sessionHost: 'RDSH01',
        },
      },
    },
    {
      schemaVersion: 2,
      context: { ...context, classification: 'corrupted-store' },
      event: {
        schemaVersion: 1,
        eventId: id('store'),
        eventTime,
        observedTime: eventTime,
        source: { kind: 'client-store', ref: 'PC-007' },
        licenseServer: 'LS01',
        type: 'client.store',
        computer: buildComputer('PC-007'),
        hwids: [hwid('0x0201abcd'), hwid('0x0201abce')],
      },
    },
  ];
}

export interface SampleFindingOptions {
  id?: string;
  revision?: number;
  updatedAt?: string;
  state?: Finding['state'];
  leakedCals?: number;
}

export function buildSampleFinding(options: SampleFindingOptions = {}): Finding {
  const updatedAt = options.updatedAt ?? '2026-11-20T10:00:00.000Z';
  return {
    schemaVersion: 2,
    id: options.id ?? 'cloned-image:LS01:00000002abcd',
    kind: 'cloned-image',
    state: options.state ?? 'open',
    severity: 'high',
    licenseServer: 'LS01',
    productVersion: 'Windows Server 2022',
    hwidCount: 1,
    hwids: ['00000002abcd'],
    computerCount: 3,
    computers: ['VDI-001', 'VDI-002', 'VDI-003'],
    licenseCount: 3,
    licenseIds: [17, 18, 19],
    leakedCals: options.leakedCals ?? 2,
    reclaimableLicenseIds: [18, 19],
    revokePlan: [
      { notBefore: '2026-11-20T10:00:00.000Z', count: 1, product: 'Windows Server 2022', licenseIds: [18] },
      { notBefore: '2026-12-20T10:00:00.000Z', count: 1, product: 'Windows Server 2022', licenseIds: [19] },
    ],
    firstSeen: '2026-11-01T08:00:00.000Z',
    lastSeen: updatedAt,
    updatedAt,
    revision: options.revision ?? 3,
    timeline: [
      { at: '2026-11-01T08:00:00.000Z', eventId: buildEventId('t', 1), note: 'HWID seen on VDI-001' },
      { at: '2026-11-01T09:00:00.000Z', eventId: buildEventId('t', 2), note: 'same HWID on VDI-002' },
    ],
    summary: 'One HWID is shared by 3 computers (cloned image); CALs ping-pong between them.',
    remediation: 'Generalize the image (sysprep) and delete HKLM\\SOFTWARE\\Microsoft\\MSLicensing before cloning.',
  };
}

/** A planned revocation of one of the sample finding's CALs. */
export function buildSampleRevocation(licenseId = 18, overrides: Partial<PlannedRevocation> = {}): PlannedRevocation {
  return {
    schemaVersion: 1,
    state: 'planned',
    licenseServer: 'LS01',
    licenseId,
    findingId: 'cloned-image:LS01:00000002abcd',
    kind: 'cloned-image',
    keyPackId: 3,
    productVersion: 'Windows Server 2022',
    batch: 1,
    notBefore: '2026-11-20T10:00:00.000Z',
    expiresAt: '2027-01-15T10:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
}
