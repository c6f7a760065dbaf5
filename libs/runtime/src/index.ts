export * from './operations.module';
export * from './environment';
