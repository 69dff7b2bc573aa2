/**
 * @calwatch/indexer/testing: sample enriched events and findings for tests and benchmarks.
 * Production code never imports this entry (a lint rule holds it).
 */
export { buildSampleEnrichedEventsOfEveryType, buildSampleFinding, buildSampleLicenseEvent, buildSampleRevocation } from './samples';
