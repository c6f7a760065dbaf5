// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { runService } from '@assent/runtime';
import { IntentModule } from './intent.module';

runService('intent', (runtime) => IntentModule.register(runtime)).catch((error) => {
  console.error(error);
  process.exit(1);
});
