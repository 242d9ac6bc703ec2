/**
 * `npm run infra:up | infra:down | infra:status` — the local development Kafka broker.
 *
 *   up      fetch (first time), format (first time), start detached, wait until it answers; reuses a
 *           running broker; with KAFKA_BROKERS naming another cluster only waits for that cluster
 *   down    stop the broker this script started for this cache folder and port, only if its command
 *           line proves it is that one (`down --purge` also deletes its data)
 *   up|down --nodes N   a KRaft cluster of N nodes on ports port, port+10, … (tools/infra/kafka/cluster.ts)
 *   status  print the broker asked for (exit 1 if it does not answer), then every other broker this cache
 *           folder knows (one per port)
 *
 * Environment: KAFKA_BROKERS, KAFKA_VERSION (default in broker.ts), KAFKA_LOCAL_PORT (9092),
 * KAFKA_LOCAL_CONTROLLER_PORT (9093), KAFKA_CACHE_DIR (<repo>/.cache/kafka), KAFKA_JVM_OPTS,
 * KAFKA_READY_TIMEOUT_MS (120000). Flags: --json (machine-readable result on stdout); --with-registry
 * also brings up, stops or reports the local schema registry (registry-cli.ts) after the broker.
 */
import { describeError } from '../../../shared/errors.js';
import { ensureKafka, kafkaStatus, knownBrokers, stopKafka, type BrokerStatus } from './broker.js';
import { startCluster, stopCluster } from './cluster.js';
import { localBrokerOptionsFromEnv } from './options.js';
import { registryCommand } from './registry-cli.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  const say = (line: string): void => {
    process.stderr.write(`[kafka] ${line}\n`);
  };
  const opts = localBrokerOptionsFromEnv(process.env, say);
  const nodesAt = rest.indexOf('--nodes');
  const nodes = nodesAt >= 0 ? Number(rest[nodesAt + 1]) : 1;
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error('--nodes takes a whole number ≥ 1');
  if (nodes > 1 && command === 'up') {
    const { port: _port, controllerPort: _controller, ...common } = opts;
    const res = await startCluster({
      ...common,
      nodes,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
    });
    process.stdout.write(
      json ? `${JSON.stringify(res)}\n` : `Kafka cluster of ${nodes} nodes at ${res.brokers}\n`,
    );
    return 0;
  }
  if (nodes > 1 && command === 'down') {
    const { port: _port, controllerPort: _controller, ...common } = opts;
    const res = await stopCluster({
      ...common,
      nodes,
      purge: rest.includes('--purge'),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
    });
    process.stdout.write(json ? `${JSON.stringify(res)}\n` : `${res.map((r) => r.detail).join('\n')}\n`);
    return 0;
  }
  switch (command) {
    case 'up': {
      const res = await ensureKafka(opts);
      if (json) process.stdout.write(`${JSON.stringify(res)}\n`);
      else
        process.stdout.write(
          `Kafka ${res.outcome} at ${res.brokers}${res.version !== undefined ? ` (Kafka ${res.version})` : ''}: ` +
            `ready in ${(res.readyMs / 1000).toFixed(1)} s` +
            (res.fetchMs !== undefined && res.fetchMs > 0
              ? `, of which fetching ${(res.fetchMs / 1000).toFixed(1)} s`
              : '') +
            '\n',
        );
      return 0;
    }
    case 'down': {
      const res = await stopKafka({ ...opts, purge: rest.includes('--purge') });
      if (json) process.stdout.write(`${JSON.stringify(res)}\n`);
      else process.stdout.write(`${res.pid !== undefined ? `Kafka (pid ${res.pid}): ` : ''}${res.detail}\n`);
      return 0;
    }
    case 'status': {
      const st = await kafkaStatus(opts);
      const others = st.managed || opts.brokersEnv === undefined ? await knownBrokers(opts) : [];
      const rest = others.filter((o) => o.brokers !== st.brokers);
      if (json) process.stdout.write(`${JSON.stringify({ ...st, others: rest })}\n`);
      else {
        const blocks = [
          describeStatus(st),
          ...rest.map((o) => `other broker of this cache folder:\n${describeStatus(o)}`),
        ];
        process.stdout.write(`${blocks.join('\n')}\n`);
      }
      return st.reachable ? 0 : 1;
    }
    default:
      process.stderr.write('usage: tsx tools/infra/kafka/cli.ts up|down [--purge]|status [--json]\n');
      return 2;
  }
}

function describeStatus(st: BrokerStatus): string {
  return [
    `brokers:   ${st.brokers}`,
    `running:   ${st.running ? 'yes' : 'no'}${st.pid !== undefined ? ` (pid ${st.pid})` : ''}`,
    `reachable: ${st.reachable ? `yes, ${st.topics} topics` : 'no'}`,
    ...(st.version !== undefined ? [`version:   ${st.version}`] : []),
    ...(st.logFile !== undefined ? [`log:       ${st.logFile}`] : []),
    ...(st.detail !== undefined ? [`note:      ${st.detail}`] : []),
  ].join('\n');
}

async function withRegistry(argv: string[]): Promise<number> {
  const code = await main(argv);
  const [command, ...rest] = argv;
  if (!rest.includes('--with-registry')) return code;
  return Math.max(code, await registryCommand(command, rest.includes('--json')));
}

withRegistry(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[kafka] error: ${describeError(err)}\n`);
    process.exit(1);
  },
);
