/**
 * The alerts consumer as a service (containers): configured by environment variables only
 * (`SMAE_PIPELINE`, `SMAE_ALERTS_*`, `KAFKA_*`, `REDIS_URL`); `smae alerts` is the same with flags.
 *
 *   SMAE_PIPELINE=payments SMAE_ALERTS_WEBHOOK_URL=https://hooks.example.com/x npx tsx services/alerts/main.ts
 */
import { describeError } from '../../shared/errors.js';
import { loadAlertsConfig } from './config.js';
import { runAlerts } from './run.js';

try {
  await runAlerts(loadAlertsConfig(process.env, {}), process.env);
} catch (err) {
  process.stderr.write(`smae alerts: ${describeError(err)}\n`);
  process.exit(1);
}
