/**
 * `smae alerts`: turns a pipeline's flags into alerts (grouped per key within a suppression window,
 * state in Redis) and delivers them to stdout and/or a webhook. Runs until Ctrl-C.
 */
import type { Command } from 'commander';
import { loadAlertsConfig } from '../../../services/alerts/config.js';
import { printDeadLetters, runAlerts } from '../../../services/alerts/run.js';

interface AlertsOptions {
  pipeline?: string;
  flagsTopic?: string;
  groupId?: string;
  window?: string;
  timeBase?: string;
  format?: string;
  stdout?: boolean;
  webhookUrl?: string;
  webhookHeader?: string[];
  webhookTimeout?: string;
  retryAttempts?: string;
  retryBase?: string;
  retryMax?: string;
  fromBeginning?: boolean;
  seenTtl?: string;
  logLevel?: string;
  deadLetters?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerAlerts(program: Command): void {
  program
    .command('alerts')
    .description(
      'read the flags topic (read_committed) and deliver alerts: one per key per suppression window, ' +
        'to stdout and/or a webhook (JSON POST, retried; failures kept in a Redis dead-letter list)',
    )
    .option('--pipeline <name>', 'pipeline whose flags to read (or SMAE_PIPELINE)')
    .option('--flags-topic <topic>', 'override the flags topic (default <pipeline>.flags)')
    .option('--group-id <id>', 'consumer group (default <pipeline>.alerts)')
    .option('--window <duration>', 'suppression window per key, e.g. 30s, 10m, 2h (default 10m)')
    .option(
      '--time-base <event|processing>',
      'measure the window in flag event time or wall-clock time (default event)',
    )
    .option('--format <json|text>', 'stdout format (default json)')
    .option('--no-stdout', 'do not print alerts (then a webhook is required)')
    .option('--webhook-url <url>', 'POST each alert as JSON to this URL')
    .option('--webhook-header <header>', 'extra webhook header "Name: value" (repeatable)', collect)
    .option('--webhook-timeout <duration>', 'per-attempt webhook timeout (default 5s)')
    .option('--retry-attempts <n>', 'webhook attempts per alert, the first included (default 5)')
    .option('--retry-base <duration>', 'first retry delay, doubled each time (default 500ms)')
    .option('--retry-max <duration>', 'cap on one retry delay (default 10s)')
    .option('--from-beginning', 'a new consumer group starts at the oldest flag (default: the newest)')
    .option(
      '--seen-ttl <duration>',
      'how long a flag id is remembered, against re-alerting on replay (default 7d)',
    )
    .option('--log-level <level>', 'log level on stderr (default info)')
    .option('--dead-letters', 'print the dead-lettered alerts of the pipeline and exit')
    .action(async (opts: AlertsOptions) => {
      const config = loadAlertsConfig(process.env, {
        pipeline: opts.pipeline,
        flagsTopic: opts.flagsTopic,
        groupId: opts.groupId,
        window: opts.window,
        timeBase: opts.timeBase,
        format: opts.format,
        // commander sets stdout=true by default; only an explicit --no-stdout should override the env.
        stdout: opts.stdout === false ? false : undefined,
        webhookUrl: opts.webhookUrl,
        webhookHeaders: opts.webhookHeader ?? [],
        webhookTimeout: opts.webhookTimeout,
        retryAttempts: opts.retryAttempts,
        retryBase: opts.retryBase,
        retryMax: opts.retryMax,
        fromBeginning: opts.fromBeginning,
        seenTtl: opts.seenTtl,
        logLevel: opts.logLevel,
      });
      if (opts.deadLetters) {
        const n = await printDeadLetters(config, process.env);
        process.stderr.write(`${n} dead-lettered alert(s) for pipeline ${config.pipeline}\n`);
        return;
      }
      await runAlerts(config, process.env);
    });
}
