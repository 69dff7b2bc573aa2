import type { KafkaClient } from './index';
import { buildTopicSpecs, type TopicLayout, type TopicNames } from '@calwatch/model';

/**
 * Creates every calwatch topic that is missing (the setup step; never done in a request
 * path). Existing topics are left untouched.
 */
export async function ensureCalwatchTopics(kafka: KafkaClient, names: TopicNames, layout: TopicLayout): Promise<void> {
  const admin = await kafka.createAdmin();
  try {
    await admin.ensureTopics(buildTopicSpecs(names, layout));
  } finally {
    await admin.close();
  }
}
