/**
 * @calwatch/collector/testing: export files as the license servers' scripts write them, for
 * tests, benchmarks and examples. Production code never imports this entry (a lint rule holds it).
 */
export * from './export-fixtures';
export { createMemoryPublisher, type MemoryPublisher } from './memory-publisher';
