/**
 * What the demo says at its end about the infrastructure it leaves behind: whether Kafka (and Redis) are
 * still running, who started them, and the command that stops them. The demo never stops a broker,
 * so the next run (and `npm test`) reuses it; saying so keeps a user from wondering what still runs.
 */
import type { BrokerUpResult } from '../../tools/infra/kafka/broker.js';
import type { RedisUp } from './redis-local.js';

export function infrastructureNote(
  kafka: Pick<BrokerUpResult, 'brokers' | 'outcome' | 'pid'>,
  redis: RedisUp,
): string[] {
  const port = kafka.brokers.split(':').pop();
  const down = port && port !== '9092' ? `KAFKA_LOCAL_PORT=${port} npm run infra:down` : 'npm run infra:down';
  const lines: string[] = [];
  if (kafka.outcome === 'started') {
    lines.push(
      `Kafka is still running at ${kafka.brokers}${kafka.pid ? ` (pid ${kafka.pid})` : ''}: this demo started it and left it ` +
        `for the next run. Stop it with: ${down}`,
    );
  } else if (kafka.outcome === 'reused') {
    lines.push(
      `Kafka is still running at ${kafka.brokers}: it was running before the demo, which left it as it was. ` +
        `If it is the local development broker, stop it with: ${down}`,
    );
  } else {
    lines.push(
      `Kafka at ${kafka.brokers} is the cluster KAFKA_BROKERS names: the demo neither started nor stopped it.`,
    );
  }
  if (redis.outcome === 'started') {
    const host = new URL(redis.url);
    lines.push(
      `Redis is still running at ${host.host}: this demo started it (redis-server, no persistence). ` +
        `Stop it with: redis-cli -p ${host.port || '6379'} shutdown nosave`,
    );
  }
  return lines;
}
