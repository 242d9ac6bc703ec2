/**
 * One way for every service to read its settings: each key of a zod object schema is an environment
 * variable (`SMAE_WINDOW_MAX_LEN`) and a command-line flag (`--window-max-len`); flags win over the
 * environment; the whole is validated once, and every problem is reported in one ConfigError whose
 * paths name both the variable and the flag, so one failed start says everything there is to fix.
 *
 * A service's config module holds its schema, its key naming (`configKeys`), optional cross-field
 * checks, and a one-line loader; `describeServiceConfig` prints the same names for `--help`.
 */
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

export interface ConfigIssue {
  path: string;
  message: string;
}

/** The setting names of an object schema (its shape's keys). */
export type SettingKey<S extends z.ZodObject> = Extract<keyof S['shape'], string>;

/** `windowMaxLen` → `SMAE_WINDOW_MAX_LEN` (with the default prefix). */
export function envName(key: string, prefix = 'SMAE_'): string {
  return `${prefix}${key.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
}

/** `windowMaxLen` → `window-max-len` (the flag without its dashes). */
export function flagName(key: string): string {
  return key.replace(/([A-Z])/g, '-$1').toLowerCase();
}

export interface KeyNaming<K extends string> {
  /** Prefix of the derived variable names; default `SMAE_`. */
  envPrefix?: string;
  /** Variables that do not follow the prefix (e.g. a shared `SMAE_PIPELINE`). */
  env?: Partial<Record<K, string>>;
  /** Order of the names in an issue path: `ENV / --flag` (default) or `--flag / ENV`. */
  label?: 'env-first' | 'flag-first';
}

/** The names a service's settings go by. */
export interface ConfigKeys<K extends string> {
  readonly all: readonly K[];
  /** The environment variable, e.g. `SMAE_TOP_K`. */
  env(key: K): string;
  /** The flag with its dashes, e.g. `--top-k`. */
  flag(key: K): string;
  /** Both, as an issue path: `SMAE_TOP_K / --top-k`. */
  where(key: K): string;
}

export function configKeys<S extends z.ZodObject>(
  schema: S,
  naming: KeyNaming<SettingKey<S>> = {},
): ConfigKeys<SettingKey<S>> {
  type K = SettingKey<S>;
  const env = (key: K): string => naming.env?.[key] ?? envName(key, naming.envPrefix);
  const flag = (key: K): string => `--${flagName(key)}`;
  return {
    all: Object.keys(schema.shape) as K[],
    env,
    flag,
    where: (key) =>
      naming.label === 'flag-first' ? `${flag(key)} / ${env(key)}` : `${env(key)} / ${flag(key)}`,
  };
}

export interface ServiceConfigSpec<S extends z.ZodObject> {
  /** Names the service in error messages: `invalid scorer configuration`. */
  service: string;
  schema: S;
  keys: ConfigKeys<SettingKey<S>>;
  /** Checks across settings, run once every setting is valid on its own. */
  check?: (settings: z.output<S>, keys: ConfigKeys<SettingKey<S>>) => ConfigIssue[];
}

/** Where settings come from; later sources win: environment, then argv, then parsed options. */
export interface ConfigSources<K extends string> {
  env: NodeJS.ProcessEnv;
  /** Raw command-line arguments: `--flag value` for every key, nothing else. */
  argv?: readonly string[];
  /** Options a caller already parsed (e.g. commander). `undefined`, and an empty list over a set variable, do not override. */
  options?: Partial<Record<K, unknown>>;
}

/** Collects settings from the environment and the command line (flags win), then validates them. */
export function loadServiceConfig<S extends z.ZodObject>(
  spec: ServiceConfigSpec<S>,
  sources: ConfigSources<SettingKey<S>>,
): z.output<S> {
  const { keys } = spec;
  const raw: Partial<Record<SettingKey<S>, unknown>> = {};
  for (const k of keys.all) {
    const v = sources.env[keys.env(k)];
    if (v !== undefined && v.trim() !== '') raw[k] = v.trim();
  }
  if (sources.argv) {
    for (const [k, v] of Object.entries(parseFlags(spec, sources.argv))) raw[k as SettingKey<S>] = v;
  }
  for (const k of keys.all) {
    const v = sources.options?.[k];
    if (v === undefined || (Array.isArray(v) && v.length === 0 && raw[k] !== undefined)) continue;
    raw[k] = v;
  }
  return resolveServiceConfig(spec, raw);
}

/** Validates already-collected settings (tests and embedding code call this directly). */
export function resolveServiceConfig<S extends z.ZodObject>(
  spec: ServiceConfigSpec<S>,
  raw: Partial<Record<SettingKey<S>, unknown>>,
): z.output<S> {
  const message = `invalid ${spec.service} configuration`;
  const result = spec.schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      message,
      result.error.issues.map((i) => {
        const key = String(i.path[0] ?? '') as SettingKey<S>;
        return { path: key ? spec.keys.where(key) : '(root)', message: i.message };
      }),
    );
  }
  const issues = spec.check?.(result.data, spec.keys) ?? [];
  if (issues.length > 0) throw new ConfigError(message, issues);
  return result.data;
}

function parseFlags<S extends z.ZodObject>(
  spec: ServiceConfigSpec<S>,
  argv: readonly string[],
): Record<string, string> {
  const byFlag = new Map(spec.keys.all.map((k) => [flagName(k), k]));
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries([...byFlag.keys()].map((f) => [f, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError(`invalid ${spec.service} command line`, [
      { path: 'argv', message: `${(err as Error).message}; run with --help for the accepted flags` },
    ]);
  }
  const out: Record<string, string> = {};
  for (const [flag, v] of Object.entries(values)) {
    const key = byFlag.get(flag);
    if (key !== undefined && typeof v === 'string') out[key] = v;
  }
  return out;
}

/** What `--help` lists: every setting as `--flag / ENV`, with its default when it has one. */
export function describeServiceConfig<S extends z.ZodObject>(spec: ServiceConfigSpec<S>): string {
  return spec.keys.all
    .map((k) => {
      const def = (spec.schema.shape[k] as z.ZodType).safeParse(undefined);
      const shown =
        def.success && def.data !== undefined && !(Array.isArray(def.data) && def.data.length === 0)
          ? ` (default ${JSON.stringify(def.data)})`
          : '';
      return `  ${spec.keys.flag(k)} / ${spec.keys.env(k)}${shown}`;
    })
    .join('\n');
}

/** Whether the command line asks for the usage text instead of a run. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** A service's settings reader: the spec bound to the loader, the validator and the help text. */
export interface ServiceConfig<S extends z.ZodObject> extends ServiceConfigSpec<S> {
  load(sources: ConfigSources<SettingKey<S>>): z.output<S>;
  resolve(raw: Partial<Record<SettingKey<S>, unknown>>): z.output<S>;
  describe(): string;
}

export function defineServiceConfig<S extends z.ZodObject>(spec: ServiceConfigSpec<S>): ServiceConfig<S> {
  return {
    ...spec,
    load: (sources) => loadServiceConfig(spec, sources),
    resolve: (raw) => resolveServiceConfig(spec, raw),
    describe: () => describeServiceConfig(spec),
  };
}
