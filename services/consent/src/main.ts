// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { runService } from '@assent/runtime';
import { ConsentModule } from './consent.module';

runService('consent', (runtime) => ConsentModule.register(runtime)).catch((error) => {
  console.error(error);
  process.exit(1);
});
