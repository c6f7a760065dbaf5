export * from './aftersales.module';
