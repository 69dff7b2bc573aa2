import { compatibilityPartitioner, type MessageToProduce } from '@platformatic/kafka';

/**
 * Key → partition exactly as kafkajs's default partitioner and Java's do (murmur2 of the key,
 * sign bit masked, modulo the partition count, which the library applies after this): the
 * library's own default keeps the sign bit and puts about half of all keys on another
 * partition. Keyless records (calwatch writes almost none) go round robin, as with kafkajs.
 */
export function createKeyPartitioner(): (message: MessageToProduce, key: Buffer | undefined) => number {
  let next = 0;
  return (message, key) => {
    if (key === undefined) return next++ & 0x7fffffff;
    return compatibilityPartitioner(message, key);
  };
}
