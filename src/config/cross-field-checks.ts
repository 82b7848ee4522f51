// Config rules that involve more than one field (unique names, timeout below interval, ...). They run
// even after a field failed elsewhere, so one run lists every error; so they read values defensively.

import type { z } from 'zod';
import { formatDuration } from './duration.js';

/** The name the embedded demo target takes; a configured target may not use it while the demo runs. */
export const DEMO_TARGET_NAME = 'demo';

/** Reports one config problem at `path` (relative to the value being checked). */
export const custom = (ctx: z.RefinementCtx, message: string, path: PropertyKey[] = []) =>
  ctx.addIssue({ code: 'custom', message, path });

/**
 * The keys these rules read at the top level (a subset of schema.ts's RawConfig, spelled out here so
 * that this helper of schema.ts does not import it back).
 */
interface RawConfig {
  defaults: { timeout: unknown; interval: unknown };
  demo: { enabled: unknown };
  limits: { max_targets: unknown };
  targets: unknown;
}

/** A value read defensively: a field that failed validation may hold anything. */
type Loose<T> = { [K in keyof T]?: unknown };
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const list = (v: unknown): Loose<Record<string, unknown>>[] =>
  Array.isArray(v) ? v.filter((x) => x !== null && typeof x === 'object') : [];

const expectOf = (rpc: Loose<Record<string, unknown>>): Record<string, unknown> =>
  rpc.expect !== null && typeof rpc.expect === 'object' ? (rpc.expect as Record<string, unknown>) : {};

/** Rules that involve more than one field; each reports at the most specific path. */
export function checkAcrossFields(config: Loose<RawConfig>, ctx: z.RefinementCtx): void {
  // A field that already failed holds its raw input (10 is not 10ms): rules skip what it would feed.
  const failed = (...path: PropertyKey[]) =>
    ctx.issues.some((issue) => path.every((key, i) => issue.path?.[i] === key));
  const defaults = (config.defaults ?? {}) as Loose<RawConfig['defaults']>;
  const demoEnabled = (config.demo as Loose<RawConfig['demo']> | undefined)?.enabled === true;
  const targets = list(config.targets);
  const misspelledTopKey = ctx.issues.some(
    (issue) => issue.code === 'unrecognized_keys' && (issue.path ?? []).length === 0,
  );
  if (Array.isArray(config.targets) && config.targets.length === 0 && !demoEnabled && !misspelledTopKey) {
    custom(ctx, 'no targets configured (add one under targets, or set demo.enabled: true)', ['targets']);
  }
  const limits = (config.limits ?? {}) as Loose<RawConfig['limits']>;
  const maxTargets = num(limits.max_targets);
  if (maxTargets !== undefined && targets.length > maxTargets) {
    custom(
      ctx,
      `${targets.length} targets configured, more than limits.max_targets (${maxTargets}); raise it or split the config`,
      ['targets'],
    );
  }
  const defaultTimeout = failed('defaults', 'timeout') ? undefined : num(defaults.timeout);
  const defaultInterval = failed('defaults', 'interval') ? undefined : num(defaults.interval);
  if (defaultTimeout !== undefined && defaultInterval !== undefined && defaultTimeout >= defaultInterval) {
    custom(
      ctx,
      `timeout ${formatDuration(defaultTimeout)} must be shorter than interval ${formatDuration(defaultInterval)}`,
      ['defaults', 'timeout'],
    );
  }
  const seen = new Map<unknown, number>();
  targets.forEach((target, i) => {
    const at = (...rest: PropertyKey[]) => ['targets', i, ...rest];
    const first = seen.get(target.name);
    if (typeof target.name !== 'string') {
      // reported by the field itself
    } else if (first !== undefined) {
      custom(ctx, `duplicate target name "${target.name}" (first used by targets[${first}])`, at('name'));
    } else seen.set(target.name, i);
    if (demoEnabled && target.name === DEMO_TARGET_NAME) {
      custom(ctx, `target name "${DEMO_TARGET_NAME}" is reserved while demo.enabled is true`, at('name'));
    }
    const health = list(target.health);
    const rpcs = list(target.rpcs);
    if (
      Array.isArray(target.health) &&
      target.health.length === 0 &&
      Array.isArray(target.rpcs) &&
      target.rpcs.length === 0
    ) {
      custom(ctx, 'nothing to probe: health and rpcs are both empty', at());
    }
    // A target that overrides neither inherits a pair checked once, at defaults.
    const interval = failed(...at('interval')) ? undefined : num(target.interval ?? defaultInterval);
    const timeout = failed(...at('timeout')) ? undefined : num(target.timeout ?? defaultTimeout);
    const overridden =
      target.timeout !== undefined ? 'timeout' : target.interval !== undefined ? 'interval' : '';
    if (overridden && interval !== undefined && timeout !== undefined && timeout >= interval) {
      custom(
        ctx,
        `timeout ${formatDuration(timeout)} must be shorter than interval ${formatDuration(interval)}`,
        at(overridden),
      );
    }
    const services = new Set<unknown>();
    health.forEach((h, j) => {
      if (h.discover !== undefined && health.findIndex((o) => o.discover !== undefined) !== j) {
        custom(ctx, 'discover: list is given twice', at('health', j, 'discover'));
        return;
      }
      if (h.discover !== undefined) return;
      if (services.has(h.service))
        custom(ctx, `duplicate health service "${h.service}"`, at('health', j, 'service'));
      services.add(h.service);
    });
    const rpcNames = new Set<unknown>();
    rpcs.forEach((r, j) => {
      if (typeof r.name !== 'string') return;
      if (rpcNames.has(r.name)) custom(ctx, `duplicate rpc name "${r.name}"`, at('rpcs', j, 'name'));
      rpcNames.add(r.name);
      if (r.name === 'health' || r.name.startsWith('health:') || r.name === 'health_list') {
        custom(
          ctx,
          'rpc names "health", "health:*" and "health_list" are reserved for health probes',
          at('rpcs', j, 'name'),
        );
      }
      const rpcTimeout = failed(...at('rpcs', j, 'timeout')) ? undefined : num(r.timeout ?? timeout);
      const rpcInterval = failed(...at('rpcs', j, 'interval')) ? undefined : num(r.interval ?? interval);
      const overrides = r.timeout !== undefined || r.interval !== undefined;
      if (overrides && rpcTimeout !== undefined && rpcInterval !== undefined && rpcTimeout >= rpcInterval) {
        custom(
          ctx,
          `timeout ${formatDuration(rpcTimeout)} must be shorter than interval ${formatDuration(rpcInterval)}`,
          at('rpcs', j, r.timeout !== undefined ? 'timeout' : 'interval'),
        );
      }
      const maxLatency = failed(...at('rpcs', j, 'expect')) ? undefined : num(expectOf(r).max_latency);
      if (maxLatency !== undefined && rpcTimeout !== undefined && maxLatency >= rpcTimeout) {
        custom(
          ctx,
          `max_latency ${formatDuration(maxLatency)} must be shorter than the rpc's timeout ${formatDuration(rpcTimeout)} (a slower call ends in DEADLINE_EXCEEDED)`,
          at('rpcs', j, 'expect', 'max_latency'),
        );
      }
    });
  });
}
