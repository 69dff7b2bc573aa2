import { isCalwatchError } from '@calwatch/model';
import { describe, expect, it } from 'vitest';
import { expandVariables, loadNotifierConfig } from './config';

const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/SECRETPATH123';
const ROUTING_KEY = 'R0UTINGKEY0123456789abcdef012345';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('loadNotifierConfig', () => {
  it('has sensible defaults and no targets', () => {
    const config = loadNotifierConfig({});
    expect(config.targets).toEqual([]);
    expect(config.rules.finding.minSeverity).toBe('high');
    expect([...config.rules.enabled]).toEqual(['leak-rate-spike', 'pool-exhaustion', 'high-severity-finding', 'revocation-limit']);
    expect(config.timing).toEqual({ updateIntervalMs: 4 * 3_600_000, quietPeriodMs: 3_600_000, reopenCooldownMs: 6 * 3_600_000 });
    expect(config.links).toEqual({ finding: null, server: null });
    expect(config.metricsPort).toBe(9466);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads targets from NOTIFIER_TARGETS with routing defaults', () => {
    const config = loadNotifierConfig({
      NOTIFIER_TARGETS: JSON.stringify([
        { name: 'slack-oncall', type: 'slack', url: SLACK_URL, minSeverity: 'high', licenseServers: ['ls01'] },
        { name: 'pd', type: 'pagerduty', routingKey: ROUTING_KEY, rules: ['pool-exhaustion'] },
      ]),
      NOTIFIER_RULES: 'leak-rate-spike, pool-exhaustion',
      NOTIFIER_TOP_OFFENDERS: '7',
    });
    expect(config.targets).toEqual([
      { name: 'slack-oncall', type: 'slack', url: SLACK_URL, minSeverity: 'high', licenseServers: ['LS01'] },
      { name: 'pd', type: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: ROUTING_KEY, minSeverity: 'info', rules: ['pool-exhaustion'] },
    ]);
    expect([...config.rules.enabled]).toEqual(['leak-rate-spike', 'pool-exhaustion']);
    expect(config.rules.topOffenders).toBe(7);
  });

  it('reads a config file and fills ${VAR} from the environment', () => {
    const file = JSON.stringify({ targets: [{ name: 'teams', type: 'teams', url: '${TEAMS_URL}' }, { name: 'pd', type: 'pagerduty', routingKey: '${PD_KEY}' }] });
    const config = loadNotifierConfig(
      { NOTIFIER_CONFIG_FILE: '/etc/calwatch/notifier.json', TEAMS_URL: 'https://example.webhook.office.com/x?sig="q"', PD_KEY: ROUTING_KEY },
      { readFile: (path) => (path === '/etc/calwatch/notifier.json' ? file : '') },
    );
    expect(config.targets.map((t) => t.url)).toEqual(['https://example.webhook.office.com/x?sig="q"', 'https://events.pagerduty.com/v2/enqueue']);
  });

  it('lists every problem without echoing secrets', () => {
    const error = errorOf(() =>
      loadNotifierConfig({
        NOTIFIER_TARGETS: JSON.stringify([
          { name: 'a', type: 'slack', url: `ftp://${ROUTING_KEY}` },
          { name: 'a', type: 'pagerduty' },
          { name: 'Bad Name', type: 'sms', url: SLACK_URL },
        ]),
        NOTIFIER_TOP_OFFENDERS: '0',
      }),
    );
    expect(isCalwatchError(error, 'SHARED_CONFIG_INVALID')).toBe(true);
    expect(error.message).toContain('NOTIFIER_TOP_OFFENDERS');
    expect(error.message).toContain('NOTIFIER_TARGETS.0.url');
    expect(error.message).toContain('NOTIFIER_TARGETS.1.routingKey');
    expect(error.message).toContain('NOTIFIER_TARGETS.2.type');
    expect(error.message).not.toContain(ROUTING_KEY);
    expect(error.message).not.toContain('SECRETPATH');
  });

  it('does not echo a target list that is not JSON', () => {
    const error = errorOf(() => loadNotifierConfig({ NOTIFIER_TARGETS: `[{"url": "${SLACK_URL}" oops` }));
    expect(error.message).toContain('not valid JSON');
    expect(error.message).not.toContain('SECRETPATH');
  });

  it('rejects duplicate names, both sources at once, unset variables and unreadable files', () => {
    const dup = errorOf(() => loadNotifierConfig({ NOTIFIER_TARGETS: JSON.stringify([{ name: 'a', type: 'slack', url: SLACK_URL }, { name: 'a', type: 'teams', url: SLACK_URL }]) }));
    expect(dup.message).toContain("duplicate target name 'a'");
    const both = errorOf(() => loadNotifierConfig({ NOTIFIER_TARGETS: '[]', NOTIFIER_CONFIG_FILE: '/x' }));
    expect(both.message).toContain('not both');
    const unset = errorOf(() => loadNotifierConfig({ NOTIFIER_CONFIG_FILE: '/x' }, { readFile: () => '{"targets":[{"name":"s","type":"slack","url":"${NOPE}"}]}' }));
    expect(isCalwatchError(unset, 'NOTIFIER_CONFIG_INVALID')).toBe(true);
    expect(unset.message).toContain('NOPE');
    const missing = errorOf(() =>
      loadNotifierConfig({ NOTIFIER_CONFIG_FILE: '/nope' }, {
        readFile: () => {
          throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
        },
      }),
    );
    expect(missing.message).toContain('cannot read /nope (ENOENT)');
  });
});

describe('expandVariables', () => {
  it('escapes values for the JSON string they land in', () => {
    expect(expandVariables('{"u":"${A}"}', { A: 'x"y\\z' })).toEqual({ text: '{"u":"x\\"y\\\\z"}', missing: [] });
    expect(expandVariables('${A}${B}', { A: '1' }).missing).toEqual(['B']);
  });
});
