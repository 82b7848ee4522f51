#!/usr/bin/env node
// The command line (SPEC "CLI"): argv → command, exit codes and signals. Exit 2 for any config error,
// 1 for bad arguments; errors a user can cause print one clear message, never a stack trace.

// First: signal handlers, before anything slow (cli-signals.ts); then grpc-js' tracer list, which it
// reads when it loads (see connection/trace-env.ts).
import { handleSignals, releaseSignals } from './cli-signals.js';
import './connection/trace-env.js';
import './util/quiet-warnings.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile, parseConfigText } from './config/load.js';
import { redact } from './config/redact.js';
import type { Config } from './config/schema.js';
import { honourDnsServers } from './connection/dns-env.js';
import { VERSION } from './version.js';

// Commands load their modules lazily: `check` runs every few seconds from exec probes and must not pay
// for fastify, prom-client or the alert generator.

const EXIT_USAGE = 1;
const EXIT_CONFIG = 2;
/** SPEC "CLI": could not start (port in use, ...). */
const EXIT_START = 3;
/**
 * A stop ends with exit 0 within 5 s whatever hangs (SPEC; Kubernetes' grace period): in-flight
 * /probe calls are aborted at once, and past this deadline the process exits anyway.
 */
const SHUTDOWN_DEADLINE_MS = 4000;

/** What `run` uses without --config: the demo target, so a first run shows live data. */
const EMBEDDED_DEFAULT = 'demo: { enabled: true }\n';

const USAGE = `Usage: grpc-pulse <command> [options]

Commands:
  run       --config FILE   run the sidecar (the default command; without --config: the demo)
  validate  --config FILE   check a config file; exit 0, or 2 listing every error
  rules     --config FILE [--format rules|prometheusrule] [--out DIR]
                            generate the Prometheus alert rules from the config's alerts: options
  check     -addr HOST:PORT [-service S] [-tls ...] [-rpc-header 'k: v']
                            one-shot health check, grpc_health_probe's flags and exit codes
  diagnose  ADDRESS [--tls ...] [--service S] [--idle-test DUR] [--ping-test] [--json]
                            every layer from DNS to health and reflection, with cause and fix
  help      [COMMAND]       this list, or one command's usage

Options:
  --help      show this help (after a command: that command's usage)
  --version   print the version

Run "grpc-pulse help COMMAND" or "grpc-pulse COMMAND --help" for a command's options.
`;

const COMMAND_HELP: Record<string, string> = {
  run: `Usage: grpc-pulse run [--config FILE] [--web.config.file FILE] [--web.enable-lifecycle]

Runs the sidecar: probes every configured target and serves /metrics. Without --config it runs the
embedded demo target. SIGTERM or SIGINT stop it cleanly (exit 0 within 5 s). Exit 2 when the config
or the web config is invalid, 3 when it cannot start (the port is in use, ...).

  --web.config.file FILE   exporter-toolkit web config: TLS, client certificates, basic auth for
                           every endpoint but /-/healthy (overrides server.web_config_file)
  --web.enable-lifecycle   let POST /-/reload reload the config (otherwise 403)
`,
  validate: `Usage: grpc-pulse validate --config FILE [--web.config.file FILE]

Parses and validates FILE (and the web config it or the flag names). Exit 0 when it is valid;
otherwise exit 2 and print every error with its file, line and path.
`,
  rules: `Usage: grpc-pulse rules --config FILE [--format rules|prometheusrule] [--out DIR]

Generates grpc-pulse's Prometheus recording and alert rules from the alerts: options of FILE.
Without --out, prints one format (default: rules) to stdout. With --out, writes
grpc-pulse.rules.yaml and grpc-pulse.prometheusrule.yaml (or only --format) into DIR.
`,
};

class UsageError extends Error {}

function loadConfig(file: string | undefined): Config {
  if (file === undefined)
    return parseConfigText(EMBEDDED_DEFAULT, '<embedded default>', {
      baseDir: process.cwd(),
      env: process.env,
    });
  return loadConfigFile(file);
}

interface RunFlags {
  webConfigFile: string | undefined;
  enableLifecycle: boolean;
}

/** The web config named by --web.config.file or server.web_config_file; ConfigError when invalid. */
async function loadWeb(config: Config, flag: string | undefined) {
  const file = flag ?? (config.server.web_config_file || undefined);
  if (file === undefined) return undefined;
  const { loadWebConfig } = await import('./server/web-config.js');
  return { file, config: loadWebConfig(file) };
}

async function run(configFile: string | undefined, flags: RunFlags): Promise<number> {
  const config = loadConfig(configFile);
  const web = await loadWeb(config, flags.webConfigFile);
  honourDnsServers(config.targets.map((t) => t.address)); // before grpc-js loads (with app.js)
  const { App } = await import('./app.js');
  const { createLogger } = await import('./log.js');
  const { redactError } = await import('./config/redact.js');
  const logger = createLogger(config.log.level);
  const app = new App(config, {
    logger,
    ...(configFile ? { configFile } : {}),
    ...(web ? { web } : {}),
    enableLifecycle: flags.enableLifecycle,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long, exiting anyway');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ error: redactError(err) }, 'shutdown failed');
        process.exit(0);
      },
    );
  };
  const reload = () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading config');
    // reload() resolves with the verdict; a rejection would be a bug, logged rather than fatal.
    app.reload().catch((err: unknown) => logger.error({ error: redactError(err) }, 'reload failed'));
  };
  let started = false;
  // A SIGHUP that arrives before the app has started (the signal may be delivered only once the event
  // loop runs again, after handleSignals) is applied once it has.
  let hangupBeforeStart = handleSignals((signal) => {
    if (signal !== 'SIGHUP') stop(signal);
    else if (started) reload();
    else hangupBeforeStart = true;
  });
  try {
    await app.start();
  } catch (err) {
    if (stopping) return -1;
    process.stderr.write(
      `grpc-pulse: could not start: ${startFailure(err, config.server.listen, redactError)}\n`,
    );
    await app.close().catch(() => {});
    return EXIT_START;
  }
  started = true;
  if (hangupBeforeStart) reload();
  return -1; // keep running until a signal
}

/** One line for a start failure: the usual listen errors in words, anything else by its message. */
function startFailure(err: unknown, listen: string, redactError: (err: unknown) => string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `cannot listen on ${listen}: address already in use`;
  if (code === 'EACCES') return `cannot listen on ${listen}: permission denied`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${listen}: address not available on this host`;
  return redactError(err).split('\n')[0] ?? 'unknown error';
}

async function validate(configFile: string | undefined, webConfigFile: string | undefined): Promise<number> {
  if (configFile === undefined) throw new UsageError('validate needs --config FILE');
  const config = loadConfig(configFile);
  await loadWeb(config, webConfigFile);
  const demo = config.demo.enabled ? ' + the demo target' : '';
  process.stdout.write(`${configFile}: valid (${config.targets.length} targets${demo})\n`);
  return 0;
}

async function rules(
  configFile: string | undefined,
  format: string | undefined,
  out: string | undefined,
): Promise<number> {
  const { RULE_FILES, renderRules } = await import('./alerts/render.js');
  const { buildRuleGroups } = await import('./alerts/rules.js');
  if (configFile === undefined) throw new UsageError('rules needs --config FILE');
  if (format !== undefined && !(format in RULE_FILES))
    throw new UsageError(`unknown --format "${format}" (rules or prometheusrule)`);
  const config = loadConfig(configFile);
  const groups = buildRuleGroups(config.alerts);
  const formats = (
    format ? [format] : out ? Object.keys(RULE_FILES) : ['rules']
  ) as (keyof typeof RULE_FILES)[];
  for (const f of formats) {
    const text = renderRules(groups, f, config.alerts);
    if (out === undefined) process.stdout.write(text);
    else {
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, RULE_FILES[f]), text);
    }
  }
  return 0;
}

/** `help`, `help CMD`, `--help`, `CMD --help`: the list of commands, or one command's usage. */
async function help(command: string | undefined): Promise<number> {
  if (command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'check') {
    const { CHECK_USAGE } = await import('./check/health-check-command.js');
    process.stdout.write(CHECK_USAGE);
    return 0;
  }
  if (command === 'diagnose') {
    const { DIAGNOSE_USAGE } = await import('./diagnose/diagnose-command.js');
    process.stdout.write(DIAGNOSE_USAGE);
    return 0;
  }
  const text = COMMAND_HELP[command];
  if (text === undefined) throw new UsageError(`unknown command "${command}"`);
  process.stdout.write(text);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  // `check` has grpc_health_probe's own flags and exit codes.
  if (argv[0] === 'check') {
    releaseSignals();
    honourDnsServers(argv.map((a) => a.replace(/^--?addr=/, ''))); // before grpc-js loads
    const { runCheck } = await import('./check/health-check-command.js');
    const code = await runCheck(argv.slice(1), process.stdout, process.stderr);
    // Exit right after the verdict: a connect still pending in the kernel (a full accept queue
    // retries its SYN for minutes) must not hold an exec probe open. stdout/stderr are synchronous
    // for files and pipes on Linux, so nothing written is lost.
    process.exit(code);
  }
  if (argv[0] === 'diagnose') {
    const { runDiagnose, DIAGNOSE_USAGE } = await import('./diagnose/diagnose-command.js');
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(DIAGNOSE_USAGE);
      return 0;
    }
    return runDiagnose(argv.slice(1), process.stdout, process.stderr);
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      format: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      'web.config.file': { type: 'string' },
      'web.enable-lifecycle': { type: 'boolean' },
    },
  });
  if (values.version) {
    process.stdout.write(`grpc-pulse ${VERSION}\n`);
    return 0;
  }
  if (positionals[0] === 'help') return help(positionals[1]);
  if (values.help) return help(positionals[0]);
  const [command = 'run', ...extra] = positionals;
  // Only the daemon keeps the early signal handlers.
  if (command !== 'run') releaseSignals();
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  switch (command) {
    case 'run':
      return run(values.config, {
        webConfigFile: values['web.config.file'],
        enableLifecycle: values['web.enable-lifecycle'] === true,
      });
    case 'validate':
      return validate(values.config, values['web.config.file']);
    case 'rules':
      return rules(values.config, values.format, values.out);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = EXIT_CONFIG;
    } else if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`grpc-pulse: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = EXIT_USAGE;
    } else {
      process.stderr.write(`grpc-pulse: unexpected error: ${redact((err as Error).stack ?? String(err))}\n`);
      process.exitCode = 70;
    }
  },
);
