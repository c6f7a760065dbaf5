export * from './databases';
export * from './eventually';
export * from './probe-events';
export * from './distributed';
export * from './fake-llm-server';
export * from './intent-cases';
