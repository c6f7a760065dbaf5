export * from './claims';
export * from './keys';
export * from './mandates';
