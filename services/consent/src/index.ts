export * from './consent.module';
export { OneTimeCodeSender } from './application/step-up';
