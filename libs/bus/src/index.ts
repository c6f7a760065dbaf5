export * from './dispatcher';
export * from './message';
export * from './transport';
export * from './kafka/kafka-transport';
export * from './embedded/embedded-transport';
export * from './nest/event-bus.server';
export * from './nest/handles-event.decorator';
export * from './nest/event-bus.module';
