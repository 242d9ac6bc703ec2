/**
 * The alerts consumer as a service (containers): configured by environment variables only
 * (`SMAE_PIPELINE`, `SMAE_ALERTS_*`, `KAFKA_*`, `REDIS_URL`); `smae alerts` is the same with flags.
 *
 *   SMAE_PIPELINE=payments SMAE_ALERTS_WEBHOOK_URL=https://hooks.example.com/x npx tsx services/alerts/main.ts
 */
import { runMain } from '../../shared/ops/lifecycle.js';
import { loadAlertsConfig } from './config.js';
import { runAlerts } from './run.js';

await runMain('alerts', () => runAlerts(loadAlertsConfig(process.env, {}), process.env));
