export * from './identity';
export * from './event-id';
export * from './instant';
export * from './primitives';
export * from './events';
export * from './findings';
export * from './dead-letter';
