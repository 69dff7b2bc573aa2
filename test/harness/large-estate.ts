import { type LicenseFact, buildComputer, buildHwid, ps51Csv } from '@calwatch/shared';

/**
 * One license server at the size calwatch is for, as a PowerShell 5.1 `Export-Csv` of
 * `Win32_TSIssuedLicense`: healthy devices with one CAL each, one cloned image whose shared
 * HWID was reissued thousands of times between its clones' names (the A/B/A ping-pong), and
 * one non-persistent VDI name that presented a new HWID at every boot. Seeded, so the same
 * options give the same file.
 */
export interface LargeEstateOptions {
  server: string;
  /** Rows in all (healthy devices fill what the clone and the churn do not take). */
  licenses: number;
  cloneReissues: number;
  cloneNames: number;
  churnHwids: number;
  /** The snapshot instant; every CAL is issued in the 50 days before it and still valid then. */
  snapshotAt: string;
  seed?: number;
}

export interface LargeEstate {
  csv: string;
  licenses: LicenseFact[];
  cloneHwid: string;
  churnComputer: string;
  /** Issue date of the newest CAL. */
  newestIssue: string;
}

const DAY_MS = 86_400_000;

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function buildLargeEstate(options: LargeEstateOptions): LargeEstate {
  const random = seededRandom(options.seed ?? 7);
  const snapshotMs = Date.parse(options.snapshotAt);
  const hwidRaw = () => Array.from({ length: 5 }, () => `0x${Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, '0')}`).join('-');
  const licenses: LicenseFact[] = [];
  let licenseId = 0;
  const issue = (hwid: string, computer: string, issuedMs: number): void => {
    licenseId++;
    const issued = new Date(Math.floor(issuedMs / 1000) * 1000);
    const expires = new Date(issued.getTime() + (52 + Math.floor(random() * 38)) * DAY_MS);
    licenses.push({
      licenseId,
      keyPackId: 2,
      hwid: buildHwid(hwid)!,
      computer: buildComputer(computer),
      user: null,
      issueDate: issued.toISOString(),
      expirationDate: expires.toISOString(),
      status: 'active',
    });
  };
  const window = 50 * DAY_MS;
  // The clone's reissues, in time order, each to a name other than the one before.
  const cloneHwid = hwidRaw();
  const names = Array.from({ length: options.cloneNames }, (_, i) => `KIOSK-${String(i + 1).padStart(2, '0')}`);
  for (let i = 0; i < options.cloneReissues; i++) issue(cloneHwid, names[i % names.length]!, snapshotMs - window + ((i + 0.5) * window) / options.cloneReissues);
  // The churning name: a new HWID at every boot.
  const churnComputer = 'VDI-POOL-0001';
  for (let i = 0; i < options.churnHwids; i++) issue(hwidRaw(), churnComputer, snapshotMs - window + ((i + 0.5) * window) / options.churnHwids);
  const healthy = options.licenses - options.cloneReissues - options.churnHwids;
  for (let i = 0; i < healthy; i++) issue(hwidRaw(), `PC-${String(i + 1).padStart(6, '0')}`, snapshotMs - window + random() * (window - 60_000));

  const format = ps51Csv<LicenseFact>('Win32_TSIssuedLicense', { server: options.server });
  const parts = [format.head(licenses.length)];
  licenses.forEach((license, i) => parts.push(format.row(license, i, licenses.length)));
  parts.push(format.tail(licenses.length));
  const newestIssue = licenses.reduce((newest, l) => (l.issueDate > newest ? l.issueDate : newest), licenses[0]!.issueDate);
  return { csv: parts.join(''), licenses, cloneHwid: buildHwid(cloneHwid)!.norm, churnComputer, newestIssue };
}
