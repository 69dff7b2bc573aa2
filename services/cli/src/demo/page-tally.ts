/** One page as the tally reads it: its action, rule and incident (dedup key). */
export interface TalliedPage {
  action: string;
  rule: string;
  dedupKey: string;
}

export interface PageTally {
  /** Every notification. */
  total: number;
  /** Triggers and resolves: what opens or closes an incident on the on-call side. */
  pages: number;
  /** Updates of an open incident (it got worse); they do not page again. */
  updates: number;
  byRule: Record<string, number>;
  byAction: Record<string, number>;
  /** Distinct incidents (dedup keys) paged. */
  incidents: number;
  /** The most pages one incident got, and which. */
  maxPerIncident: { dedupKey: string | null; pages: number };
}

/** Counts pages by rule, by action and per incident: how noisy the paging was. */
export function createPageTally(): { add(page: TalliedPage): void; result(): PageTally } {
  const byRule = new Map<string, number>();
  const byAction = new Map<string, number>();
  const perIncident = new Map<string, number>();
  let total = 0;
  return {
    add(page) {
      total++;
      byRule.set(page.rule, (byRule.get(page.rule) ?? 0) + 1);
      byAction.set(page.action, (byAction.get(page.action) ?? 0) + 1);
      perIncident.set(page.dedupKey, (perIncident.get(page.dedupKey) ?? 0) + 1);
    },
    result() {
      let max: PageTally['maxPerIncident'] = { dedupKey: null, pages: 0 };
      for (const [dedupKey, pages] of [...perIncident].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (pages > max.pages) max = { dedupKey, pages };
      return {
        total,
        pages: (byAction.get('trigger') ?? 0) + (byAction.get('resolve') ?? 0),
        updates: byAction.get('update') ?? 0,
        byRule: Object.fromEntries([...byRule].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
        byAction: Object.fromEntries([...byAction].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
        incidents: perIncident.size,
        maxPerIncident: max,
      };
    },
  };
}

/** "5 pages (3 trigger, 2 resolve) and 1 update; by rule: ...; 3 incidents, at most 3 notifications for one". */
export function renderPageTally(tally: PageTally): string {
  const rules = Object.entries(tally.byRule).map(([rule, n]) => `${rule} ${n}`);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    `${plural(tally.pages, 'page')} and ${plural(tally.updates, 'update')}` +
    (rules.length > 0 ? ` (by rule: ${rules.join(', ')})` : '') +
    `; ${plural(tally.incidents, 'incident')}, at most ${plural(tally.maxPerIncident.pages, 'notification')} for one`
  );
}

