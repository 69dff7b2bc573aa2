import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { SHARED_ERRORS } from '@calwatch/model';
import { toPlatformaticKafkaError } from './platformatic-errors';

const PRODUCE_API = 0;

describe('toPlatformaticKafkaError', () => {
  it('codes what waiting can fix as SHARED_KAFKA_UNAVAILABLE', () => {
    const cases: Error[] = [
      new TimeoutError('Request timed out', { canRetry: true }),
      new NetworkError('Connection refused'),
      new MultipleErrors('produce failed 3 times.', [new NetworkError('reset'), new TimeoutError('Request timed out', { canRetry: true }), new ProtocolError('NOT_LEADER_OR_FOLLOWER')]),
      new ResponseError(PRODUCE_API, 9, { '/responses/0/partitions/0': [6, null] }, undefined),
      new Error('socket hang up'),
    ];
    for (const error of cases) {
      const coded = toPlatformaticKafkaError(error, 'produce');
      expect(coded.code, String(error)).toBe('SHARED_KAFKA_UNAVAILABLE');
      expect(coded.retriable).toBe(true);
      expect(coded.cause).toBe(error);
    }
  });

  it('names the broker\'s own error, not only "Producing messages failed"', () => {
    const refused = new MultipleErrors('Producing messages failed.', [
      new ResponseError(PRODUCE_API, 11, { '/responses/0/partitionResponses/0': [10, null] }, undefined),
    ]);
    const coded = toPlatformaticKafkaError(refused, 'produce');
    expect(coded.message).toContain('Producing messages failed.');
    expect(coded.message).toContain('MESSAGE_TOO_LARGE');
    const plain = toPlatformaticKafkaError(new NetworkError('Connection refused'), 'produce');
    expect(plain.message).toBe('produce: Connection refused');
  });

  it('codes what waiting cannot fix as SHARED_KAFKA_REQUEST_FAILED', () => {
    const cases: Error[] = [
      // MESSAGE_TOO_LARGE from the broker, after a retriable failure.
      new MultipleErrors('produce failed 2 times.', [new NetworkError('reset'), new ResponseError(PRODUCE_API, 9, { '/responses/0/partitions/0': [10, null] }, undefined)]),
      new AuthenticationError('SASL authentication failed'),
      // How a connection reports a wrong password: a retriable network error caused by a final one.
      new MultipleErrors('initProducerId failed 3 times.', [new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause: new AuthenticationError('SASL authentication failed.') })]),
      new UserError('Cannot find broker with node id 7'),
      new NetworkError('Client is closed.', { canRetry: false }),
      new TypeError('undefined is not a function'),
    ];
    for (const error of cases) {
      const coded = toPlatformaticKafkaError(error, 'produce');
      expect(coded.code, String(error)).toBe('SHARED_KAFKA_REQUEST_FAILED');
      expect(coded.retriable).toBe(false);
    }
  });

  it('keeps an already coded error as it is', () => {
    const coded = SHARED_ERRORS.create('SHARED_KAFKA_RECORD_TOO_LARGE', 'too large');
    expect(toPlatformaticKafkaError(coded, 'produce')).toBe(coded);
  });
});
