import type { CanonicalEvent } from '@calwatch/model';
import { type TimelineKit, createTimelineKit } from './timeline-kit';

/**
 * Hand-built timelines, one per cause, shared by the scenario, determinism and round-trip
 * tests. Each uses its own license server so they can be replayed together.
 */
export interface Scenario {
  kit: TimelineKit;
  events: CanonicalEvent[];
}

/** One HWID presented by PC-A and PC-B in turn (A/B/A/B): three reissues. */
export function clonedImage(server = 'LS-CLONE'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [
    kit.keyPack({ day: 0, keyPackId: 1, total: 100, available: 50 }),
    kit.issue(1, { hwid: 'aa01', computer: 'PC-A', day: 0 }),
    kit.issue(2, { hwid: 'aa01', computer: 'PC-B', day: 1 }),
    kit.issue(3, { hwid: 'aa01', computer: 'PC-A', day: 2 }),
    kit.issue(4, { hwid: 'aa01', computer: 'PC-B.corp.example', day: 3 }),
  ];
  return { kit, events };
}

/** A non-persistent VDI desktop: a new HWID every day for five days. */
export function vdiChurn(server = 'LS-VDI'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [kit.keyPack({ day: 0, keyPackId: 1, total: 100, available: 60 })];
  for (let i = 0; i < 5; i++) events.push(kit.issue(100 + i, { hwid: `b00${i + 1}`, computer: 'PC-VDI01', day: i }));
  return { kit, events };
}

/** PC-R rebuilt on day 20: a new HWID, the old CAL orphaned until it expires on day 60. */
export function rebuiltDevice(server = 'LS-REBUILD'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [
    kit.keyPack({ day: 0, keyPackId: 1, total: 50, available: 30 }),
    kit.issue(10, { hwid: 'c001', computer: 'PC-R', day: 0 }),
    kit.issue(11, { hwid: 'c002', computer: 'PC-R', day: 20 }),
  ];
  events.push(kit.renew(11, 75));
  return { kit, events };
}

/**
 * Two live machines named PC-D, both already renewed when first observed (their expiry
 * lies beyond a first 52-89 day period) and both renewing again.
 */
export function duplicateName(server = 'LS-DUP'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [
    kit.keyPack({ day: -200, keyPackId: 1, total: 50, available: 30 }),
    kit.issue(20, { hwid: 'd001', computer: 'PC-D', day: -150, validDays: 180 }),
    kit.issue(21, { hwid: 'd002', computer: 'PC-D', day: -120, validDays: 160 }),
  ];
  events.push(kit.renew(20, 25), kit.renew(21, 35), kit.renew(20, 80), kit.renew(21, 90));
  return { kit, events };
}

/** No permanent CAL left: inventory at 0, event 21, temporaries handed out. */
export function exhaustedPool(server = 'LS-POOL'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [
    kit.keyPack({ day: 0, keyPackId: 1, total: 10, available: 0 }),
    kit.keyPack({ day: 0, keyPackId: 2, total: 0, available: 0, keyPackType: 4, typeAndModel: 'Built-in TS Per Device Cal' }),
    kit.service({ day: 1, code: 21, meaning: 'pool-exhausted' }),
    kit.issue(30, { hwid: 'e001', computer: 'PC-T1', day: 2, status: 'temporary' }),
    kit.issue(31, { hwid: 'e002', computer: 'PC-T2', day: 3, status: 'temporary' }),
  ];
  return { kit, events };
}

/**
 * 10 CALs installed (revocation cap 2), one CAL revoked on day 1 still holding quota until
 * day 30, and a churning desktop leaking four CALs with different expiries.
 */
export function cappedRevocations(server = 'LS-CAP'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [
    kit.keyPack({ day: 0, keyPackId: 1, total: 10, available: 5 }),
    kit.issue(90, { hwid: 'f090', computer: 'PC-OLD', day: -30 }),
  ];
  events.push(kit.revoke(90, 1));
  const validity = [70, 55, 80, 60, 60];
  for (let i = 0; i < 5; i++) {
    events.push(kit.issue(60 + i, { hwid: `f10${i + 1}`, computer: 'PC-W', day: 2 + i, validDays: validity[i]! }));
  }
  return { kit, events };
}

/** 20 devices with their own HWIDs renewing for 200 days, one upgraded from temporary. */
export function healthyFleet(server = 'LS-OK'): Scenario {
  const kit = createTimelineKit({ server });
  const events: CanonicalEvent[] = [kit.keyPack({ day: 0, keyPackId: 1, total: 100, available: 80 })];
  for (let i = 0; i < 20; i++) {
    const id = 500 + i;
    const hwid = (0x1000 + i).toString(16);
    const first = i % 10;
    if (i === 0) {
      events.push(kit.issue(id, { hwid, computer: `PC-${i}`, day: first, status: 'temporary' }));
      events.push(kit.upgrade(id, first + 1, 60));
    } else {
      events.push(kit.issue(id, { hwid, computer: `PC-${i}`, day: first }));
    }
    let expiry = Date.parse(kit.license(id).expirationDate!);
    for (;;) {
      const renewDay = (expiry - Date.parse(kit.at(0))) / 86_400_000 - 5;
      if (renewDay > 200) break;
      events.push(kit.renew(id, renewDay, 60));
      expiry = Date.parse(kit.license(id).expirationDate!);
    }
  }
  return { kit, events };
}

/** PC-C's client store holds two HWIDs, each of which got a CAL. */
export function corruptedStore(server = 'LS-STORE'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [
    kit.keyPack({ day: 0, keyPackId: 1, total: 50, available: 30 }),
    kit.issue(70, { hwid: 'c0c0', computer: 'PC-C', day: 0 }),
    kit.issue(71, { hwid: 'c0c1', computer: 'PC-C', day: 1 }),
    kit.store({ day: 2, computer: 'PC-C', hwids: ['c0c0', 'C0C1'] }),
  ];
  return { kit, events };
}

/**
 * A server that takes two CALs a day, a first load of 30 on day 0 (history, never a spike),
 * then 24 on day 10 (a new leak rolling out): one leak-rate spike, resolved once day 11
 * passed under the threshold.
 */
export function issuanceSpike(server = 'LS-SPIKE'): Scenario {
  const kit = createTimelineKit({ server });
  const events = [kit.keyPack({ day: 0, keyPackId: 1, total: 1000, available: 900 })];
  let id = 5000;
  const issue = (day: number) => {
    id++;
    events.push(kit.issue(id, { hwid: `e${id.toString(16)}`, computer: `PC-${id}`, day }));
  };
  for (let i = 0; i < 30; i++) issue(0.01 * i);
  for (let d = 1; d <= 14; d++) {
    for (let i = 0; i < 2; i++) issue(d + 0.1 + 0.3 * i);
    if (d === 10) for (let i = 0; i < 24; i++) issue(d + 0.5 + 0.01 * i);
  }
  return { kit, events };
}
