export * from './embedded';
export * from './client';
