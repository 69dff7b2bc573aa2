export { runNotifier } from './main';
export { createNotifierService, type NotifierService, type NotifierServiceOptions, type NotifierState } from './notifier-service';
export {
  loadNotifierConfig,
  notifierEnvShape,
  NotifierEnvSchema,
  NotifierConfigFile,
  TargetConfig,
  type NotifierConfig,
} from './config';
export { NOTIFIER_ERRORS } from './errors';
export { sendTestNotification, buildTestNotification, type TestSendResult } from './send-test';
export { createNotifierMetrics, type NotifierMetrics } from './metrics';
export { createFetchPost, type HttpPost, type HttpRequestSpec } from './http-client';
export { Notification, RULE_NAMES, type RuleName } from './notification';
export { createNotifierCore, type NotifierCore, type NotifierCoreOptions, type Delivery } from './notifier-core';
export type { RuleSettings } from './rule-settings';
export { calsBand } from './alert-machine';
