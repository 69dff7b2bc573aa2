import { describe, expect, it } from 'vitest';
import { buildTopicNames, type CanonicalEvent, type DeadLetter } from '@calwatch/model';
import { buildClientStoreEvent } from './testing/export-fixtures';
import { buildDeadLetterRecord, buildEventRecord, buildStateRecords } from './kafka-records';
import { emptyServerState } from './server-state';
import { buildStateWrite } from './state-entries';

const topics = buildTopicNames('t.');

describe('kafka records', () => {
  it("keys every event by its license server (one server's state lives in one partition), with routing headers", () => {
    const store = buildClientStoreEvent(1, 'LS09');
    const record = buildEventRecord(topics, store);
    expect(record).toMatchObject({ topic: 't.events', key: 'LS09', headers: { 'calwatch-schema-version': '1', 'calwatch-event-type': 'client.store', 'calwatch-source': 'canonical' } });
    expect(JSON.parse(record.value as string)).toEqual(store);
    const issued: CanonicalEvent = {
      schemaVersion: 1,
      eventId: '0'.repeat(32),
      eventTime: '2024-06-01T00:00:00.000Z',
      observedTime: '2024-06-01T00:00:00.000Z',
      source: { kind: 'wmi-issued-licenses', ref: 'x' },
      licenseServer: 'LS01',
      type: 'license.issued',
      license: {
        licenseId: 1,
        keyPackId: 3,
        hwid: { raw: '0xABCD', norm: 'abcd' },
        computer: { raw: 'pc', norm: 'PC' },
        user: null,
        issueDate: '2024-06-01T00:00:00.000Z',
        expirationDate: null,
        status: 'temporary',
      },
    };
    expect(buildEventRecord(topics, issued).key).toBe('LS01');
  });

  it('keys dead letters by where they came from', () => {
    const letter: DeadLetter = {
      schemaVersion: 1,
      at: '2024-06-01T00:00:00.000Z',
      code: 'INGEST_BAD_FIELD',
      reason: 'r',
      location: { ref: 'http:/v1/events#1', line: 2, record: 2, field: 'x' },
      issues: [],
      originalBase64: '',
    };
    expect(buildDeadLetterRecord(topics, letter)).toMatchObject({ topic: 't.dead-letter', key: 'http:/v1/events#1', headers: { 'calwatch-error-code': 'INGEST_BAD_FIELD' } });
  });

  it('writes state as license entries, a head and, after an upgrade, the tombstone of the old record', () => {
    const next = { ...emptyServerState('LS01'), issued: { licenseServer: 'LS01', takenAt: '2024-06-01T00:00:00.000Z', licenses: {} } };
    const write = buildStateWrite({ licenses: {}, legacyRecord: true }, next);
    write.licenses.push({ licenseId: '9', fact: null });
    const records = buildStateRecords(topics, write);
    // License entries are many and carry no header; the head says the format.
    expect(records.entries).toEqual([{ topic: 't.collector.snapshot-state', key: '["LS01","9"]', value: null }]);
    expect(records.head).toMatchObject({ key: '["LS01"]', headers: { 'calwatch-schema-version': '2' } });
    expect(JSON.parse(records.head.value as string)).toEqual(write.head);
    expect(records.legacyTombstone).toMatchObject({ key: 'LS01', value: null });
    expect(buildStateRecords(topics, { ...write, dropLegacy: false }).legacyTombstone).toBeUndefined();
  });
});
