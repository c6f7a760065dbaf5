// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { runService } from '@assent/runtime';
import { CartModule } from './cart.module';

runService('cart', (runtime) => CartModule.register(runtime)).catch((error) => {
  console.error(error);
  process.exit(1);
});
