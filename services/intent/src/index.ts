export * from './intent.module';
