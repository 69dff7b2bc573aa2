import type { ServiceEventFact } from '@calwatch/model';
import { hash32 } from './random';
import { EVENT_CATALOG, LEVEL_NUMBER, PROVIDERS, renderMessage, type EventLevel } from './service-events';

/** What the writers need of a `service.event`: its time and fact. */
export interface LoggedEvent {
  eventTime: string;
  event: ServiceEventFact;
}

const CLASSIC_KEYWORDS = '0x80000000000000';
/** Severity bits of the classic event id, as `EventID Qualifiers` shows them. */
const QUALIFIERS: Readonly<Record<EventLevel, number>> = { information: 16384, warning: 32768, error: 49152 };

function providerOf(fact: ServiceEventFact) {
  return fact.provider === PROVIDERS.licensing.name ? PROVIDERS.licensing : PROVIDERS.rcm;
}

/** UserData/EventXML for licensing events (docs/licensing-reference.md §5), EventData for the session host's. */
function usesUserData(fact: ServiceEventFact): boolean {
  return EVENT_CATALOG[fact.code]?.provider === 'licensing';
}

/** `2024-06-12T09:30:15.000Z` with `digits` fractional digits. */
function fractional(iso: string, digits: number): string {
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19)}.${ms.padEnd(digits, '0')}Z`;
}

function processIds(host: string, provider: string): { pid: number; tid: number } {
  const h = hash32(...Buffer.from(`${host}|${provider}`));
  return { pid: 400 + (h % 6000) * 4, tid: 400 + ((h >>> 13) % 9000) * 4 };
}

/** One Winlogbeat (ECS) document, envelope after winlogbeat's golden files. */
export function toWinlogbeat(logged: LoggedEvent): string {
  const { event: fact, eventTime } = logged;
  const provider = providerOf(fact);
  const level = (fact.level ?? 'information') as EventLevel;
  const { pid, tid } = processIds(fact.host, provider.name);
  const created = new Date(Date.parse(eventTime) + 1500).toISOString();
  const data = usesUserData(fact) ? { user_data: { xml_name: 'EventXML', ...fact.params } } : { event_data: { ...fact.params } };
  const doc = {
    '@timestamp': fractional(eventTime, 7),
    agent: { type: 'winlogbeat', version: '8.14.3', name: fact.host.split('.')[0] },
    ecs: { version: '8.0.0' },
    event: {
      code: String(fact.code),
      kind: 'event',
      provider: provider.name,
      action: 'None',
      created,
    },
    host: { name: fact.host },
    log: { level },
    message: renderMessage(fact),
    winlog: {
      api: 'wineventlog',
      channel: fact.channel,
      computer_name: fact.host,
      event_id: String(fact.code),
      provider_name: provider.name,
      provider_guid: provider.guid,
      record_id: Number(fact.recordId),
      keywords: ['Classic'],
      opcode: 'Info',
      task: 'None',
      process: { pid, thread: { id: tid } },
      ...data,
    },
  };
  return JSON.stringify(doc);
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** One `<Event>` as `wevtutil qe /f:xml` renders it, on one line. */
export function toEvtxXml(logged: LoggedEvent): string {
  const { event: fact, eventTime } = logged;
  const provider = providerOf(fact);
  const level = (fact.level ?? 'information') as EventLevel;
  const { pid, tid } = processIds(fact.host, provider.name);
  const source = provider.eventSourceName === undefined ? '' : ` EventSourceName="${provider.eventSourceName}"`;
  const params = Object.entries(fact.params);
  const payload = usesUserData(fact)
    ? `<UserData><EventXML xmlns="Event_NS">${params.map(([k, v]) => `<${k}>${xml(v)}</${k}>`).join('')}</EventXML></UserData>`
    : `<EventData>${params.map(([k, v]) => `<Data Name="${k}">${xml(v)}</Data>`).join('')}</EventData>`;
  return (
    `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>` +
    `<Provider Name="${provider.name}" Guid="${provider.guid}"${source}/>` +
    `<EventID Qualifiers="${QUALIFIERS[level]}">${fact.code}</EventID>` +
    `<Version>0</Version><Level>${LEVEL_NUMBER[level]}</Level><Task>0</Task><Opcode>0</Opcode>` +
    `<Keywords>${CLASSIC_KEYWORDS}</Keywords><TimeCreated SystemTime="${fractional(eventTime, 9)}"/>` +
    `<EventRecordID>${fact.recordId}</EventRecordID><Correlation/><Execution ProcessID="${pid}" ThreadID="${tid}"/>` +
    `<Channel>${xml(fact.channel)}</Channel><Computer>${xml(fact.host)}</Computer>` +
    `<Security${usesUserData(fact) ? '' : ' UserID="S-1-5-18"'}/></System>${payload}</Event>`
  );
}
