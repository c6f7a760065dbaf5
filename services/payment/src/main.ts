// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { runService } from '@assent/runtime';
import { PaymentModule } from './payment.module';

runService('payment', (runtime) => PaymentModule.register(runtime)).catch((error) => {
  console.error(error);
  process.exit(1);
});
