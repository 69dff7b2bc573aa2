import { Producer as LibraryProducer, ProduceAcks, type BaseOptions, type MessageToProduce } from '@platformatic/kafka';
import type { KafkaCompression } from '@calwatch/runtime';
import { SHARED_ERRORS } from '@calwatch/model';
import type { Logger } from '@calwatch/runtime';
import type { Readiness } from '@calwatch/runtime';
import { sendPlanned } from './outage';
import { createKeyPartitioner } from './platformatic-partitioner';
import { toPlatformaticKafkaError } from './platformatic-errors';
import type { OutgoingRecord, Producer, ProducerOptions } from './types';

export interface PlatformaticProducerSettings {
  clientOptions: BaseOptions;
  logger: Logger;
  readiness: Readiness | undefined;
  compression: KafkaCompression;
  maxRecordBytes: number;
  outageBudgetMs: number;
  backoff: { minDelayMs: number; maxDelayMs: number };
  /** Names the producer in readiness and logs ("kafka producer 3"). */
  reason: string;
}

function toBuffer(text: Buffer | string): Buffer {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

function toMessage(record: OutgoingRecord): MessageToProduce {
  const message: MessageToProduce = { topic: record.topic };
  if (record.key !== null) message.key = toBuffer(record.key);
  if (record.value !== null) message.value = toBuffer(record.value);
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.headers !== undefined) {
    const headers = new Map<Buffer, Buffer>();
    for (const [name, value] of Object.entries(record.headers)) headers.set(Buffer.from(name, 'utf8'), Buffer.from(value, 'utf8'));
    message.headers = headers;
  }
  return message;
}

/**
 * The port's Producer over @platformatic/kafka: idempotent (acks=all, one request in flight
 * per broker, so a partition's records keep their order), Java-compatible key hashing, the
 * record-size refusal and the outage budget of the kafkajs producer, and a new library
 * producer after any failed send.
 */
export async function createPlatformaticProducer(settings: PlatformaticProducerSettings, producerOptions: ProducerOptions = {}): Promise<Producer> {
  const { logger, readiness, reason } = settings;
  const idempotent = producerOptions.idempotent ?? true;
  const compression = (producerOptions.compress ?? true) ? settings.compression : 'none';
  const budgetMs = producerOptions.outageBudgetMs ?? settings.outageBudgetMs;
  const partitioner = createKeyPartitioner();
  // The library retries an idempotent producer's requests forever unless told a number above 1:
  // the outage budget, not the library, decides when to give up.
  const retries = Math.max(2, typeof settings.clientOptions.retries === 'number' ? settings.clientOptions.retries : 2);
  const make = () =>
    new LibraryProducer({
      ...settings.clientOptions,
      retries,
      idempotent,
      acks: ProduceAcks.ALL,
      compression,
      partitioner,
      autocreateTopics: false,
    });

  /** A round trip before the first send, so a wrong address, TLS or SASL setting fails here, as with kafkajs's connect(). */
  async function connect(candidate: LibraryProducer, action: string): Promise<void> {
    try {
      if (idempotent) await candidate.initIdempotentProducer({});
      else await candidate.metadata({ topics: [] });
    } catch (error) {
      await candidate.close().catch(() => undefined);
      throw toPlatformaticKafkaError(error, action);
    }
  }

  let producer = make();
  await connect(producer, 'connect producer');
  // After a failed send the idempotent producer's sequence numbers may no longer match the
  // broker's (OUT_OF_ORDER_SEQUENCE_NUMBER on every later send): the next send starts a new one.
  let broken = false;
  let renewing: Promise<void> | undefined;
  let closed = false;
  const closing = new AbortController();

  async function renew(): Promise<void> {
    const old = producer;
    const fresh = make();
    await old.close().catch(() => undefined);
    await connect(fresh, 'reconnect producer');
    producer = fresh;
    broken = false;
    logger.info({ reason }, 'producer recreated after a failed send');
  }

  async function sendRun(run: readonly OutgoingRecord[]): Promise<void> {
    if (broken) {
      renewing ??= renew().finally(() => {
        renewing = undefined;
      });
      await renewing;
    }
    try {
      await producer.send({ messages: run.map(toMessage) });
    } catch (error) {
      broken = true;
      const coded = toPlatformaticKafkaError(error, 'produce');
      // Not ready from the first failure on: the library's own retries may already have used the whole budget.
      if (coded.retriable) readiness?.set(reason, `send failing: ${coded.message}`);
      throw coded;
    }
  }

  return {
    send(records: readonly OutgoingRecord[]): Promise<void> {
      return sendPlanned(records, sendRun, {
        maxRecordBytes: settings.maxRecordBytes,
        budgetMs,
        backoff: settings.backoff,
        signal: closing.signal,
        readiness,
        reason,
        logger,
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      closing.abort(SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', 'producer closed while a send was retried'));
      readiness?.set(reason, undefined);
      await renewing?.catch(() => undefined);
      await producer.close();
    },
  };
}
