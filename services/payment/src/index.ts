export * from './payment.module';
