/**
 * @calwatch/processor/testing: hand-made timelines for tests and benchmarks. Production
 * code never imports this entry (a lint rule holds it).
 */
export { byEventTime, createSeededRandom, createTimelineKit, verdictOf, type TimelineKit } from './timeline-kit';
