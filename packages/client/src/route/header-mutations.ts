import type { HeaderValueOptionModel } from '@dabba/discovery';

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
  readonly add: readonly HeaderValueOptionModel[];
  readonly remove: readonly string[];
}

/** `slot` value meaning "check the live headers" (no probe needed). */
const LIVE = -1;

/**
 * Flattens header mutation levels, in the order given, into one op list with Envoy's semantics
 * (router/header_parser.cc HeaderParser::evaluateHeaders, per level):
 * 1. removes first ("remove-before-add");
 * 2. values are literal (the decoder has left out the empty ones Envoy skips);
 * 3. ADD_IF_ABSENT / OVERWRITE_IF_EXISTS look at the headers after the removes and before any
 *    addition of the same level;
 * 4. all overwrites of the level are applied, then all appends, each in config order.
 *
 * Names are compared lowercased. Envoy's `%COMMAND%` substitutions are not evaluated: values
 * are used literally.
 */
export function compileHeaderMutations(levels: readonly HeaderMutationLevel[]): HeaderMutations {
  const ops: HeaderOp[] = [];
  let nextSlot = 0;
  for (const level of levels) {
    for (const raw of level.remove) ops.push({ op: 'remove', name: raw.toLowerCase() });
    const sets: { name: string; value: string; ifPresent: boolean }[] = [];
    const appends: { name: string; value: string; ifAbsent: boolean }[] = [];
    for (const option of level.add) {
      const name = option.key.toLowerCase();
      const value = option.value;
      switch (option.appendAction) {
        case 'APPEND_IF_EXISTS_OR_ADD':
          appends.push({ name, value, ifAbsent: false });
          break;
        case 'ADD_IF_ABSENT':
          appends.push({ name, value, ifAbsent: true });
          break;
        case 'OVERWRITE_IF_EXISTS_OR_ADD':
          sets.push({ name, value, ifPresent: false });
          break;
        case 'OVERWRITE_IF_EXISTS':
          sets.push({ name, value, ifPresent: true });
          break;
      }
    }
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
