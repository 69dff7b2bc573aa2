export * from './identity';
export * from './event-id';
export * from './primitives';
export * from './events';
export * from './findings';
export * from './dead-letter';
export * from './revocations';
