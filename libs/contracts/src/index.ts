export * from './envelope';
export * from './registry';
export * from './topics';
export * from './ids';
export * from './codec';
export * from './shopping';
export * from './causation';
