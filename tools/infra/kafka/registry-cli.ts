/**
 * `npm run registry:up | registry:down | registry:status` — the local schema registry (Apicurio Registry,
 * see schema-registry.ts); also reached through `npm run infra:up -- --with-registry` (and `infra:down`,
 * `infra:status` with the same flag), which manage it beside the broker.
 *
 * Environment: SMAE_SCHEMA_REGISTRY_URL (an external registry), SCHEMA_REGISTRY_LOCAL_PORT (8081),
 * SCHEMA_REGISTRY_MANAGEMENT_PORT, SCHEMA_REGISTRY_VERSION, SCHEMA_REGISTRY_CACHE_DIR, SCHEMA_REGISTRY_JAVA,
 * SCHEMA_REGISTRY_READY_TIMEOUT_MS. Flags: --json.
 */
import { fileURLToPath } from 'node:url';
import { describeError } from '../../../shared/errors.js';
import { ensureRegistry, registryOptionsFromEnv, registryStatus, stopRegistry } from './schema-registry.js';

/** Runs `up`, `down` or `status` for the registry; returns the exit code. */
export async function registryCommand(command: string | undefined, json: boolean): Promise<number> {
  const opts = registryOptionsFromEnv(process.env, (line) => process.stderr.write(`[registry] ${line}\n`));
  const print = (text: string, value: unknown): void => {
    process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  };
  switch (command) {
    case 'up': {
      const res = await ensureRegistry(opts);
      print(
        `schema registry ${res.outcome} at ${res.url}: ready in ${(res.readyMs / 1000).toFixed(1)} s` +
          (res.fetchMs !== undefined && res.fetchMs > 0
            ? `, of which fetching ${(res.fetchMs / 1000).toFixed(1)} s`
            : ''),
        res,
      );
      return 0;
    }
    case 'down': {
      const res = await stopRegistry(opts);
      print(`${res.pid !== undefined ? `schema registry (pid ${res.pid}): ` : ''}${res.detail}`, res);
      return 0;
    }
    case 'status': {
      const st = await registryStatus(opts);
      print(
        [
          `registry:  ${st.url}`,
          `running:   ${st.running ? `yes (pid ${st.pid})` : 'no'}`,
          `reachable: ${st.reachable ? `yes, ${st.subjects} subjects` : 'no'}`,
          ...(st.logFile !== undefined ? [`log:       ${st.logFile}`] : []),
        ].join('\n'),
        st,
      );
      return st.reachable ? 0 : 1;
    }
    default:
      process.stderr.write('usage: tsx tools/infra/kafka/registry-cli.ts up|down|status [--json]\n');
      return 2;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, ...rest] = process.argv.slice(2);
  registryCommand(command, rest.includes('--json')).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`[registry] error: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}
