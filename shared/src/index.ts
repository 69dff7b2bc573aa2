export * from './model/index';
export * from './errors';
