export * from './operations.module';
export * from './environment';
export * from './http/auth';
export * from './http/problem';
export * from './http/idempotency';
export * from './http/zod-pipe';
export * from './http/service-app';
export * from './service-runtime';
