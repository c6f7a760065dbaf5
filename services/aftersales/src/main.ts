// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { runService } from '@assent/runtime';
import { AftersalesModule } from './aftersales.module';

runService('aftersales', (runtime) => AftersalesModule.register(runtime)).catch((error) => {
  console.error(error);
  process.exit(1);
});
