import { HeaderValueOption_HeaderAppendAction as AppendAction, type Route } from '@dabba/discovery';
import { MatcherCompileError } from './match/index.ts';

/** xDS core/v3/base.proto HeaderValueOption (the generated type, named through Route). */
export type XdsHeaderValueOption = Route['requestHeadersToAdd'][number];

/**
 * One step of a flattened header mutation list. Names are lowercase. `probe`/`slot` exist because
 * Envoy decides ADD_IF_ABSENT and OVERWRITE_IF_EXISTS against the headers as they were before
 * the level's additions; a probe records that presence when a same-level op could change it.
 */
export type HeaderOp =
  | { readonly op: 'remove'; readonly name: string }
  /** Records whether `name` is present into `slot`, for later ops of the same level. */
  | { readonly op: 'probe'; readonly name: string; readonly slot: number }
  /** Replace all values. `ifPresent`: only when present (OVERWRITE_IF_EXISTS). */
  | {
      readonly op: 'set';
      readonly name: string;
      readonly value: string;
      readonly ifPresent: boolean;
      readonly slot: number;
    }
  /** Add one more value. `ifAbsent`: only when absent (ADD_IF_ABSENT). */
  | {
      readonly op: 'append';
      readonly name: string;
      readonly value: string;
      readonly ifAbsent: boolean;
      readonly slot: number;
    };

/** A precomputed, flattened header mutation list, applied in one loop by {@link applyHeaderMutations}. */
export type HeaderMutations = readonly HeaderOp[];

/** One level's `*_headers_to_add` and `*_headers_to_remove` (weighted cluster, route, vhost, config). */
export interface HeaderMutationLevel {
  readonly add: readonly XdsHeaderValueOption[];
  readonly remove: readonly string[];
  /** Field path prefix for errors, e.g. `virtualHosts[0].routes[1].request`. */
  readonly path: string;
}

/** `slot` value meaning "check the live headers" (no probe needed). */
const LIVE = -1;

/**
 * Flattens header mutation levels, in the order given, into one op list with Envoy's semantics
 * (router/header_parser.cc HeaderParser::evaluateHeaders, per level):
 * 1. removes first ("remove-before-add");
 * 2. values are literal; an empty value is skipped unless `keep_empty_value`;
 * 3. ADD_IF_ABSENT / OVERWRITE_IF_EXISTS look at the headers after the removes and before any
 *    addition of the same level;
 * 4. all overwrites of the level are applied, then all appends, each in config order;
 * 5. deprecated `append` (BoolValue), when set, means APPEND_IF_EXISTS_OR_ADD (true) or
 *    OVERWRITE_IF_EXISTS_OR_ADD (false); setting it together with a non-default
 *    `append_action` is an error.
 *
 * `:`-prefixed and `host` headers can be neither added nor removed (Envoy rejects the config).
 * Envoy's `%COMMAND%` substitutions are not evaluated: values are used literally.
 *
 * @throws MatcherCompileError naming the offending field.
 */
export function compileHeaderMutations(levels: readonly HeaderMutationLevel[]): HeaderMutations {
  const ops: HeaderOp[] = [];
  let nextSlot = 0;
  for (const level of levels) {
    for (const [i, raw] of level.remove.entries()) {
      const name = raw.toLowerCase();
      if (name.length === 0 || name.charCodeAt(0) === 58 || name === 'host') {
        throw new MatcherCompileError(
          `${level.path}HeadersToRemove[${i}]`,
          ':-prefixed or host headers may not be removed',
        );
      }
      ops.push({ op: 'remove', name });
    }
    const sets: { name: string; value: string; ifPresent: boolean }[] = [];
    const appends: { name: string; value: string; ifAbsent: boolean }[] = [];
    level.add.forEach((option, i) => {
      const entry = parseOption(option, `${level.path}HeadersToAdd[${i}]`);
      if (entry === undefined) return;
      const { name, value, action } = entry;
      switch (action) {
        case AppendAction.APPEND_IF_EXISTS_OR_ADD:
          appends.push({ name, value, ifAbsent: false });
          break;
        case AppendAction.ADD_IF_ABSENT:
          appends.push({ name, value, ifAbsent: true });
          break;
        case AppendAction.OVERWRITE_IF_EXISTS_OR_ADD:
          sets.push({ name, value, ifPresent: false });
          break;
        case AppendAction.OVERWRITE_IF_EXISTS:
          sets.push({ name, value, ifPresent: true });
          break;
        default:
          throw new MatcherCompileError(
            `${level.path}HeadersToAdd[${i}].appendAction`,
            `unknown append action ${action}`,
          );
      }
    });
    // A conditional op needs a probe only if an earlier op of this level, in applied order
    // (sets, then appends), writes the same name; otherwise the live check sees what Envoy sees.
    const written = new Set<string>();
    const probes = new Map<string, number>();
    const probeFor = (name: string): number => {
      let slot = probes.get(name);
      if (slot === undefined) {
        slot = nextSlot++;
        probes.set(name, slot);
      }
      return slot;
    };
    const levelOps: HeaderOp[] = [];
    for (const s of sets) {
      const slot = s.ifPresent && written.has(s.name) ? probeFor(s.name) : LIVE;
      levelOps.push({ op: 'set', name: s.name, value: s.value, ifPresent: s.ifPresent, slot });
      written.add(s.name);
    }
    for (const a of appends) {
      const slot = a.ifAbsent && written.has(a.name) ? probeFor(a.name) : LIVE;
      levelOps.push({ op: 'append', name: a.name, value: a.value, ifAbsent: a.ifAbsent, slot });
      written.add(a.name);
    }
    for (const [name, slot] of probes) ops.push({ op: 'probe', name, slot });
    ops.push(...levelOps);
  }
  return Object.freeze(ops.map((op) => Object.freeze(op)));
}

function parseOption(
  option: XdsHeaderValueOption,
  path: string,
): { name: string; value: string; action: AppendAction } | undefined {
  const header = option.header;
  if (header === undefined) throw new MatcherCompileError(`${path}.header`, 'header is required');
  const name = header.key.toLowerCase();
  if (name.length === 0) throw new MatcherCompileError(`${path}.header.key`, 'header name is required');
  if (name.charCodeAt(0) === 58 || name === 'host') {
    throw new MatcherCompileError(`${path}.header.key`, ':-prefixed or host headers may not be modified');
  }
  // raw_value carries bytes when value is not valid UTF-8; Envoy copies them as they are.
  const value =
    header.value.length === 0 && header.rawValue.length > 0
      ? Buffer.from(header.rawValue).toString('latin1')
      : header.value;
  if (/[\0\r\n]/.test(value)) {
    throw new MatcherCompileError(`${path}.header.value`, 'header value must not contain NUL, CR or LF');
  }
  let action = option.appendAction;
  if (option.append !== undefined) {
    if (action !== AppendAction.APPEND_IF_EXISTS_OR_ADD) {
      throw new MatcherCompileError(path, "Both append and append_action are set and it's not allowed");
    }
    action = option.append ? AppendAction.APPEND_IF_EXISTS_OR_ADD : AppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
  }
  if (value.length === 0 && !option.keepEmptyValue) return undefined;
  return { name, value, action };
}

/**
 * Applies a flattened mutation list to `headers` in place. `headers` is keyed by lowercase name;
 * several values of one header are an array (a new array is stored, the old one is not mutated).
 */
export function applyHeaderMutations(ops: HeaderMutations, headers: Record<string, string | string[]>): void {
  let seen: boolean[] | undefined;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.op) {
      case 'remove':
        delete headers[op.name];
        break;
      case 'probe':
        seen ??= [];
        seen[op.slot] = headers[op.name] !== undefined;
        break;
      case 'set': {
        if (op.ifPresent) {
          const present = op.slot === LIVE ? headers[op.name] !== undefined : seen![op.slot] === true;
          if (!present) break;
        }
        headers[op.name] = op.value;
        break;
      }
      case 'append': {
        const current = headers[op.name];
        if (op.ifAbsent) {
          const present = op.slot === LIVE ? current !== undefined : seen![op.slot] === true;
          if (present) break;
        }
        if (current === undefined) headers[op.name] = op.value;
        else if (typeof current === 'string') headers[op.name] = [current, op.value];
        else headers[op.name] = [...current, op.value];
        break;
      }
    }
  }
}
