export * from './aggregate';
export * from './database';
export * from './errors';
export * from './event-store';
export * from './inbox';
export * from './migrations';
export * from './outbox-relay';
export * from './pglite-pool';
