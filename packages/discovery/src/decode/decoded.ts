/**
 * What every decoder gives back: a frozen model free of protobuf types, or every issue found in
 * the resource, each with its field path. A source reports the issues (an xDS client NACKs with
 * them) and keeps its last good configuration; the data plane only ever sees models.
 *
 * Decoders look at the whole resource before they answer, so that one NACK or one error lists
 * every problem rather than the first. Field paths use the protobuf JSON names (camelCase), as
 * the configuration dump shows the resources.
 */
import type { ConfigIssue, ResourceRef } from '../errors.ts';

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** The issues of one resource, collected while a decoder walks it. */
export class IssueSink {
  readonly #issues: ConfigIssue[] = [];
  readonly source: string;
  readonly resource: ResourceRef;

  constructor(source: string, resource: ResourceRef) {
    this.source = source;
    this.resource = resource;
  }

  /** Records that the field at `path` cannot be accepted, and why. */
  add(path: string, message: string): void {
    this.#issues.push({ source: this.source, resource: this.resource, path, message });
  }

  /** Records issues found by another decoder (whose source may be unset). */
  addAll(issues: readonly ConfigIssue[], prefix = ''): void {
    for (const i of issues)
      this.#issues.push({
        ...i,
        source: this.source,
        resource: this.resource,
        path: prefix === '' ? i.path : i.path === '' ? prefix : `${prefix}.${i.path}`,
      });
  }

  get empty(): boolean {
    return this.#issues.length === 0;
  }

  /** The model when no issue was recorded, else the issues. */
  result<T>(value: T): Decoded<T> {
    return this.#issues.length === 0 ? { ok: true, value } : { ok: false, issues: this.#issues };
  }
}
