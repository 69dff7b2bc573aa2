import {
  buildEventId,
  type CanonicalEvent,
  type Computer,
  type EventSource,
  type Hwid,
  type KeyPackFact,
  type LicenseFact,
  type LicenseStatus,
} from '@calwatch/model';
import { ExpiryHeap } from './expiry-heap';
import { DAY_MS } from './fleet';
import type { Random } from './random';
import type { EventLog } from './service-events';

/** Lifecycle constants from docs/licensing-reference.md §2.4. */
export const RULES = {
  temporaryDays: 90,
  permanentMinDays: 52,
  permanentMaxDays: 89,
  renewWithinDays: 7,
  /** Revocation cap: this share of installed CALs, or one, whichever is larger. */
  revokeShare: 0.2,
  /** Event 20 fires when at most this share of the pool remains. */
  lowPoolShare: 0.05,
} as const;

export const KEY_PACK_IDS = { builtIn: 1, temporary: 2, permanent: 3 } as const;

/** Version strings and ids for 2016+ are unverified (docs/licensing-reference.md §2.2); these match the project's fixtures. */
export const PRODUCT = {
  version: 'Windows Server 2019',
  versionId: 6,
  typeAndModel: 'RDS Per Device CAL',
  name: 'Windows Server 2019 - RDS Per Device CAL',
} as const;

/** The built-in pack reports "unlimited" as the largest uint32. */
const UNLIMITED = 4294967295;

export interface HeldLicense {
  fact: LicenseFact;
  issuedAtMs: number;
  expiresAtMs: number;
  scenario: number;
  device: number;
}

export interface Connection {
  atMs: number;
  hwid: Hwid;
  computer: Computer;
  user: string;
  sessionHost: string;
  scenario: number;
  device: number;
}

export type ConnectOutcome =
  | { action: 'kept' | 'renewed' | 'upgraded'; license: HeldLicense; poolEmpty: boolean }
  | { action: 'issued'; license: HeldLicense; poolEmpty: boolean }
  | { action: 'refused'; code: 1011 | 1028; poolEmpty: true };

export interface LicenseServerOptions {
  /** Normalised license server name. */
  name: string;
  pool: number;
  temporaryFirst: boolean;
  random: Random;
  log: EventLog;
  source: EventSource;
  emit: (event: CanonicalEvent) => void;
}

/**
 * The license server's per-device CAL table, indexed on HWID as the real one is. Pure:
 * time comes in with each call, events go out through `emit`.
 */
export class LicenseServerModel {
  private readonly table = new Map<number, HeldLicense>();
  /** Live (unexpired, unrevoked) license ids per HWID, oldest first. */
  private readonly liveByHwid = new Map<string, number[]>();
  /** Kind of the last license an HWID held, kept after it is gone. */
  private readonly history = new Map<string, 'temporary' | 'permanent'>();
  private readonly heap = new ExpiryHeap();
  private readonly lastPoolLowDay = { day: -1 };
  private readonly lastNoPermanentDay = new Map<string, number>();
  private nextLicenseId = 1;

  permanentInUse = 0;
  temporaryInUse = 0;
  revokedHeld = 0;
  peakPermanentInUse = 0;
  issuedCount = 0;

  constructor(private readonly options: LicenseServerOptions) {}

  get available(): number {
    return this.options.pool - this.permanentInUse;
  }

  get revokeCap(): number {
    return Math.max(1, Math.floor(this.options.pool * RULES.revokeShare));
  }

  /** A client presents its HWID (and name) to a session host at `atMs`. */
  connect(c: Connection): ConnectOutcome {
    this.reclaimUntil(c.atMs);
    const live = this.liveByHwid.get(c.hwid.norm);
    const latestId = live?.[live.length - 1];
    const latest = latestId === undefined ? undefined : this.table.get(latestId);

    if (latest !== undefined && latest.fact.computer.norm === c.computer.norm) {
      if (latest.fact.status === 'temporary') {
        if (this.available > 0) return { action: 'upgraded', license: this.upgrade(latest, c.atMs), poolEmpty: false };
        this.noPermanent(c);
        return { action: 'kept', license: latest, poolEmpty: true };
      }
      if (latest.expiresAtMs - c.atMs <= RULES.renewWithinDays * DAY_MS) {
        return { action: 'renewed', license: this.renew(latest, c.atMs), poolEmpty: false };
      }
      return { action: 'kept', license: latest, poolEmpty: false };
    }

    if (latest !== undefined) {
      // Same HWID under another name: the server re-issues (the cloned-image ping-pong);
      // with no permanent left it keeps handing out temporaries.
      if (this.available > 0) return { action: 'issued', license: this.issue(c, 'active'), poolEmpty: false };
      this.noPermanent(c);
      return { action: 'issued', license: this.issue(c, 'temporary'), poolEmpty: true };
    }

    const past = this.history.get(c.hwid.norm);
    if (past === undefined) {
      if (this.options.temporaryFirst) return { action: 'issued', license: this.issue(c, 'temporary'), poolEmpty: false };
      if (this.available > 0) return { action: 'issued', license: this.issue(c, 'active'), poolEmpty: false };
      this.noPermanent(c);
      return { action: 'issued', license: this.issue(c, 'temporary'), poolEmpty: true };
    }
    // A known HWID whose CAL expired or was revoked: it had its temporary already.
    if (this.available > 0) return { action: 'issued', license: this.issue(c, 'active'), poolEmpty: false };
    this.noPermanent(c);
    const code = past === 'temporary' ? 1011 : 1028;
    this.options.emit(this.options.log.clientRefused(c.atMs, code, c.sessionHost, c.computer.raw));
    return { action: 'refused', code, poolEmpty: true };
  }

  /** Automatic reclamation: every license whose expiry is at or before `nowMs` leaves the table. */
  reclaimUntil(nowMs: number): void {
    while (this.heap.peekTime() <= nowMs) {
      const { time, id } = this.heap.pop();
      const held = this.table.get(id);
      if (held === undefined || held.expiresAtMs !== time) continue;
      this.table.delete(id);
      const status = held.fact.status;
      if (status === 'revoked') this.revokedHeld -= 1;
      else {
        this.forgetLive(held);
        if (status === 'temporary') this.temporaryInUse -= 1;
        else this.permanentInUse -= 1;
      }
      this.options.emit(this.lifecycle('license.returned', held.fact, time, { reason: 'expired' }));
    }
  }

  /**
   * What an administrator does when the pool runs dry: revoke every permanent CAL of a
   * name that holds several, keeping the newest, until the 20 % cap stops them (event 81).
   * Revoked CALs stay listed until their original expiry, which is when they free quota.
   */
  revokeSurplus(nowMs: number): number {
    this.reclaimUntil(nowMs);
    const byName = new Map<string, HeldLicense[]>();
    for (const held of this.table.values()) {
      if (held.fact.status !== 'active') continue;
      const list = byName.get(held.fact.computer.norm);
      if (list === undefined) byName.set(held.fact.computer.norm, [held]);
      else list.push(held);
    }
    const names = [...byName.entries()]
      .filter(([, list]) => list.length > 1)
      .sort(([a, la], [b, lb]) => lb.length - la.length || (a < b ? -1 : a > b ? 1 : 0));
    let revoked = 0;
    for (const [, list] of names) {
      // Table order is licenseId order: the last one is the newest.
      for (const held of list.slice(0, -1)) {
        if (this.revokedHeld >= this.revokeCap) {
          let next = Infinity;
          for (const h of this.table.values()) if (h.fact.status === 'revoked') next = Math.min(next, h.expiresAtMs);
          this.options.emit(
            this.options.log.revocationLimit(nowMs, held.fact.computer.raw, this.revokedHeld, this.options.pool, next),
          );
          return revoked;
        }
        this.revoke(held, nowMs);
        revoked += 1;
      }
    }
    return revoked;
  }

  /** The table as `Win32_TSIssuedLicense` would list it now, by licenseId. */
  licenses(): LicenseFact[] {
    const out: LicenseFact[] = [];
    for (const held of this.table.values()) out.push(held.fact);
    return out;
  }

  held(): IterableIterator<HeldLicense> {
    return this.table.values();
  }

  keyPacks(): KeyPackFact[] {
    const base = { productVersion: PRODUCT.version, productVersionId: PRODUCT.versionId, expirationDate: null };
    return [
      {
        ...base,
        keyPackId: KEY_PACK_IDS.builtIn,
        keyPackType: 0,
        productVersion: 'Windows Server 2012',
        productVersionId: 4,
        description: 'Built-in TS Per Device Cal',
        typeAndModel: 'Built-in TS Per Device Cal',
        totalLicenses: UNLIMITED,
        availableLicenses: UNLIMITED,
        issuedLicenses: 0,
      },
      {
        ...base,
        keyPackId: KEY_PACK_IDS.temporary,
        keyPackType: 4,
        description: `Temporary Licenses for ${PRODUCT.typeAndModel}`,
        typeAndModel: PRODUCT.typeAndModel,
        totalLicenses: 0,
        availableLicenses: 0,
        issuedLicenses: this.temporaryInUse,
      },
      {
        ...base,
        keyPackId: KEY_PACK_IDS.permanent,
        keyPackType: 2,
        description: 'A02-6.00-S',
        typeAndModel: PRODUCT.typeAndModel,
        totalLicenses: this.options.pool,
        availableLicenses: this.available,
        issuedLicenses: this.permanentInUse,
      },
    ];
  }

  private issue(c: Connection, status: 'temporary' | 'active'): HeldLicense {
    const licenseId = this.nextLicenseId;
    this.nextLicenseId += 1;
    const permanent = status === 'active';
    const expiresAtMs = c.atMs + (permanent ? this.permanentDays() : RULES.temporaryDays) * DAY_MS;
    const held: HeldLicense = {
      fact: {
        licenseId,
        keyPackId: permanent ? KEY_PACK_IDS.permanent : KEY_PACK_IDS.temporary,
        hwid: c.hwid,
        computer: c.computer,
        user: c.user,
        issueDate: new Date(c.atMs).toISOString(),
        expirationDate: new Date(expiresAtMs).toISOString(),
        status,
      },
      issuedAtMs: c.atMs,
      expiresAtMs,
      scenario: c.scenario,
      device: c.device,
    };
    this.table.set(licenseId, held);
    const live = this.liveByHwid.get(c.hwid.norm);
    if (live === undefined) this.liveByHwid.set(c.hwid.norm, [licenseId]);
    else live.push(licenseId);
    this.history.set(c.hwid.norm, permanent ? 'permanent' : 'temporary');
    this.heap.push(expiresAtMs, licenseId);
    this.issuedCount += 1;
    if (permanent) this.tookPermanent(c.atMs);
    else this.temporaryInUse += 1;
    this.options.emit(this.lifecycle('license.issued', held.fact, c.atMs, {}));
    return held;
  }

  private upgrade(held: HeldLicense, atMs: number): HeldLicense {
    const previousStatus = held.fact.status;
    held.expiresAtMs = atMs + this.permanentDays() * DAY_MS;
    held.fact = {
      ...held.fact,
      keyPackId: KEY_PACK_IDS.permanent,
      status: 'active',
      expirationDate: new Date(held.expiresAtMs).toISOString(),
    };
    this.heap.push(held.expiresAtMs, held.fact.licenseId);
    this.history.set(held.fact.hwid.norm, 'permanent');
    this.temporaryInUse -= 1;
    this.tookPermanent(atMs);
    this.options.emit(this.lifecycle('license.upgraded', held.fact, atMs, { previousStatus }));
    return held;
  }

  private renew(held: HeldLicense, atMs: number): HeldLicense {
    const previousExpirationDate = held.fact.expirationDate;
    held.expiresAtMs = atMs + this.permanentDays() * DAY_MS;
    held.fact = { ...held.fact, expirationDate: new Date(held.expiresAtMs).toISOString() };
    this.heap.push(held.expiresAtMs, held.fact.licenseId);
    this.options.emit(this.lifecycle('license.renewed', held.fact, atMs, { previousExpirationDate }));
    return held;
  }

  private revoke(held: HeldLicense, atMs: number): void {
    const previousStatus = held.fact.status;
    held.fact = { ...held.fact, status: 'revoked' };
    this.forgetLive(held);
    this.permanentInUse -= 1;
    this.revokedHeld += 1;
    this.options.emit(this.lifecycle('license.revoked', held.fact, atMs, { previousStatus }));
    this.options.emit(this.options.log.revoked(atMs, held.fact.computer.raw));
  }

  private tookPermanent(atMs: number): void {
    this.permanentInUse += 1;
    this.peakPermanentInUse = Math.max(this.peakPermanentInUse, this.permanentInUse);
    const day = Math.floor(atMs / DAY_MS);
    const threshold = Math.max(1, Math.ceil(this.options.pool * RULES.lowPoolShare));
    if (this.available <= threshold && this.lastPoolLowDay.day !== day) {
      this.lastPoolLowDay.day = day;
      this.options.emit(this.options.log.poolLow(atMs, this.available));
    }
  }

  private noPermanent(c: Connection): void {
    const day = Math.floor(c.atMs / DAY_MS);
    if (this.lastNoPermanentDay.get(c.sessionHost) === day) return;
    this.lastNoPermanentDay.set(c.sessionHost, day);
    this.options.emit(this.options.log.noPermanent(c.atMs, c.sessionHost));
  }

  private forgetLive(held: HeldLicense): void {
    const live = this.liveByHwid.get(held.fact.hwid.norm);
    if (live === undefined) return;
    const at = live.indexOf(held.fact.licenseId);
    if (at >= 0) live.splice(at, 1);
    if (live.length === 0) this.liveByHwid.delete(held.fact.hwid.norm);
  }

  private permanentDays(): number {
    return this.options.random.int(RULES.permanentMinDays, RULES.permanentMaxDays);
  }

  /** Same event ids as the snapshot differ derives, so either source deduplicates against the other. */
  private lifecycle(
    type: 'license.issued' | 'license.renewed' | 'license.upgraded' | 'license.revoked' | 'license.returned',
    license: LicenseFact,
    atMs: number,
    extra: { previousStatus?: LicenseStatus; previousExpirationDate?: string | null; reason?: 'expired' },
  ): CanonicalEvent {
    const { name, source } = this.options;
    const instance = [name, license.licenseId, license.issueDate, license.hwid.norm] as const;
    const at = new Date(atMs).toISOString();
    const envelope = { schemaVersion: 1 as const, eventTime: at, observedTime: at, source, licenseServer: name };
    switch (type) {
      case 'license.issued':
        return { ...envelope, eventId: buildEventId(type, ...instance), type, license };
      case 'license.returned':
        return { ...envelope, eventId: buildEventId(type, ...instance), type, license, reason: extra.reason ?? 'expired' };
      case 'license.revoked':
        return { ...envelope, eventId: buildEventId(type, ...instance), type, license, previousStatus: extra.previousStatus! };
      case 'license.upgraded':
        return {
          ...envelope,
          eventId: buildEventId(type, ...instance, extra.previousStatus, license.status),
          type,
          license,
          previousStatus: extra.previousStatus!,
        };
      case 'license.renewed':
        return {
          ...envelope,
          eventId: buildEventId(type, ...instance, license.expirationDate),
          type,
          license,
          previousExpirationDate: extra.previousExpirationDate ?? null,
        };
    }
  }
}
