/**
 * The alerts consumer as a service (containers): configured by environment variables only
 * (`SMAE_PIPELINE`, `SMAE_ALERTS_*`, `KAFKA_*`, `REDIS_URL`); `smae alerts` is the same with flags.
 *
 *   SMAE_PIPELINE=payments SMAE_ALERTS_WEBHOOK_URL=https://hooks.example.com/x npx tsx services/alerts/main.ts
 */
import { runMain } from '../../shared/ops/lifecycle.js';
import { wantsHelp } from '../../shared/config/service-config.js';
import { describeAlertsSettings, loadAlertsConfig } from './config.js';
import { runAlerts } from './run.js';

const USAGE = `smae alerts: reads the pipeline's flags and sends one alert per key per suppression window.

Settings (read from the environment variables; \`smae alerts\` takes the same as flags):
${describeAlertsSettings()}

Kafka: KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL_* ; Redis: REDIS_URL.
`;

if (wantsHelp(process.argv.slice(2))) process.stdout.write(USAGE);
else await runMain('alerts', () => runAlerts(loadAlertsConfig(process.env, {}), process.env));
