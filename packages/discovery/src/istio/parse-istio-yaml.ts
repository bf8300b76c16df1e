/**
 * Parses multi-document Istio YAML into validated resources. Pure: text in, resources and
 * issues out. Every issue names the file, the line, the resource and the field path.
 *
 * Two paths give the same resources. The fast path (js-yaml, no source positions) serves every
 * file that is valid; source positions are only needed to report a problem, so a file with any
 * issue or notice, or any YAML feature the fast path declines, is parsed again by the precise
 * path (`yaml` with a LineCounter and node ranges), which produces the issues with exact lines.
 * Lines of a fast-parsed resource (`origin.line`, `origin.locate`) are computed on first use by
 * the precise path.
 */
import { loadAll } from 'js-yaml';
import { type Document, isNode, isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { ZodType } from 'zod';
import type { ConfigIssue, ResourceRef } from '../errors.ts';
import type { Steps } from '../steps.ts';
import { runSteps } from '../steps.ts';
import { destinationRuleSpec } from './destination-rule-schema.ts';
import { formatPath, type IstioKind, type IstioResource, type ResourceOrigin } from './istio-resource.ts';
import { namespaceMeta } from './schema-common.ts';
import { serviceEntrySpec } from './service-entry-schema.ts';
import { splitYamlDocuments, type YamlChunk } from './split-yaml-documents.ts';
import { virtualServiceSpec } from './virtual-service-schema.ts';
import { workloadEntrySpec } from './workload-entry-schema.ts';

/** networking.istio.io versions that share one schema per kind. */
export const ISTIO_NETWORKING_VERSIONS: readonly string[] = [
  'networking.istio.io/v1',
  'networking.istio.io/v1beta1',
  'networking.istio.io/v1alpha3',
];

const SPEC_SCHEMAS: Record<IstioKind, ZodType> = {
  VirtualService: virtualServiceSpec,
  DestinationRule: destinationRuleSpec,
  ServiceEntry: serviceEntrySpec,
  WorkloadEntry: workloadEntrySpec,
};

export interface ParsedYaml {
  readonly resources: readonly IstioResource[];
  /** Problems that make the input unacceptable. */
  readonly issues: readonly ConfigIssue[];
  /** Things skipped on purpose (unknown kinds), reported but not fatal. */
  readonly notices: readonly ConfigIssue[];
}

export interface ParseOptions {
  /** Namespace for resources that name none, as `kubectl apply` would use. Default `default`. */
  readonly defaultNamespace?: string;
  /**
   * A document (one resource) larger than this is refused, in bytes. Default 1.5 MiB
   * ({@link MAX_DOCUMENT_BYTES}), etcd's default request limit: a Kubernetes API server cannot
   * store a bigger resource, so istiod never sees one.
   */
  readonly maxDocumentBytes?: number;
}

/** etcd's default `--max-request-bytes` (1.5 MiB): the largest resource a Kubernetes cluster stores. */
export const MAX_DOCUMENT_BYTES = 1.5 * 1024 * 1024;

/** Parses one YAML text (one file) holding any number of `---`-separated documents. */
export function parseIstioYaml(source: string, text: string, options: ParseOptions = {}): ParsedYaml {
  return runSteps(parseIstioYamlSteps(source, text, options));
}

/**
 * {@link parseIstioYaml} as steps: documents are parsed one at a time, with a step between
 * them, so a file of thousands of documents does not hold the event loop for its whole parse.
 * Each document takes the fast path or, when it has anything to report, the precise one.
 */
export function* parseIstioYamlSteps(
  source: string,
  text: string,
  options: ParseOptions = {},
): Steps<ParsedYaml> {
  const out = { resources: [] as IstioResource[], issues: [] as ConfigIssue[], notices: [] as ConfigIssue[] };
  const chunks = splitYamlDocuments(text);
  for (let i = 0; i < chunks.length; i++) {
    if (i > 0) yield;
    appendParsed(out, parseDocument(source, chunks[i]!, options));
  }
  return out;
}

/** Adds one document's results (one loop each: a file can hold thousands of documents). */
export function appendParsed(
  out: { resources: IstioResource[]; issues: ConfigIssue[]; notices: ConfigIssue[] },
  parsed: ParsedYaml,
): void {
  for (const r of parsed.resources) out.resources.push(r);
  for (const x of parsed.issues) out.issues.push(x);
  for (const n of parsed.notices) out.notices.push(n);
}

/** The issue for a document over the size limit, or undefined when it is within it. */
export function oversizedDocument(
  source: string,
  chunk: YamlChunk,
  maxDocumentBytes: number,
): ConfigIssue | undefined {
  // Characters bound the bytes from below: count bytes only when it could matter.
  if (chunk.text.length * 3 <= maxDocumentBytes) return undefined;
  const bytes = Buffer.byteLength(chunk.text);
  if (bytes <= maxDocumentBytes) return undefined;
  return {
    source,
    line: chunk.lineOffset + 1,
    path: '',
    message: `the document is ${bytes} bytes, over the limit of ${maxDocumentBytes} for one resource (maxDocumentBytes)`,
  };
}

/** Parses one document (one chunk of a stream): the fast path, else the precise one. */
export function parseDocument(source: string, chunk: YamlChunk, options: ParseOptions = {}): ParsedYaml {
  const oversized = oversizedDocument(source, chunk, options.maxDocumentBytes ?? MAX_DOCUMENT_BYTES);
  if (oversized !== undefined) return { resources: [], issues: [oversized], notices: [] };
  const defaultNamespace = options.defaultNamespace ?? 'default';
  return (
    parseIstioYamlFast(source, chunk.text, defaultNamespace, chunk.lineOffset) ??
    parseIstioYamlPrecise(source, chunk.text, defaultNamespace, chunk.lineOffset)
  );
}

/**
 * A resource's origin whose lines come from the precise parse of its file, run once on first
 * use and shared by every resource of the file (only files with a problem to report pay for it).
 */
class DeferredOrigin implements ResourceOrigin {
  readonly source: string;
  readonly #index: number;
  readonly #firstLine: number;
  readonly #precise: (index: number) => ResourceOrigin | undefined;

  constructor(
    source: string,
    index: number,
    firstLine: number,
    precise: (index: number) => ResourceOrigin | undefined,
  ) {
    this.source = source;
    this.#index = index;
    this.#firstLine = firstLine;
    this.#precise = precise;
  }

  get line(): number {
    return this.#precise(this.#index)?.line ?? this.#firstLine;
  }

  locate(path: readonly (string | number)[]): number | undefined {
    return this.#precise(this.#index)?.locate(path) ?? this.line;
  }
}

/**
 * The fast path: returns undefined (use the precise path) unless every document is a valid
 * resource of a kind Dabba reads, so that it never has to report anything itself.
 */
export function parseIstioYamlFast(
  source: string,
  text: string,
  defaultNamespace: string,
  lineOffset = 0,
): ParsedYaml | undefined {
  let docs: unknown[];
  try {
    // js-yaml's default is the YAML 1.2 core schema, as `yaml`'s, so plain scalars resolve the
    // same. Aliases are declined: `yaml` bounds alias expansion and reports it with a line.
    docs = loadAll(text, { maxAliases: 0 });
  } catch {
    return undefined; // syntax errors, duplicate keys, unknown tags: reported by the precise path
  }
  let precise: ParsedYaml | undefined;
  const preciseOrigin = (index: number): ResourceOrigin | undefined => {
    precise ??= parseIstioYamlPrecise(source, text, defaultNamespace, lineOffset);
    return precise.resources[index]?.origin;
  };
  const resources: IstioResource[] = [];
  for (const raw of docs) {
    if (raw === null || raw === undefined) continue;
    if (typeof raw !== 'object' || Array.isArray(raw)) return undefined;
    const obj = raw as Record<string, unknown>;
    const { kind, apiVersion } = obj;
    if (typeof kind !== 'string' || typeof apiVersion !== 'string') return undefined;
    const schema = SPEC_SCHEMAS[kind as IstioKind];
    if (!schema || !ISTIO_NETWORKING_VERSIONS.includes(apiVersion)) return undefined;
    const meta = namespaceMeta.safeParse(obj.metadata);
    if (!meta.success) return undefined;
    const spec = schema.safeParse(obj.spec ?? {});
    if (!spec.success) return undefined;
    resources.push({
      kind: kind as IstioKind,
      apiVersion,
      name: meta.data.name,
      namespace: meta.data.namespace ?? defaultNamespace,
      labels: meta.data.labels ?? {},
      spec: spec.data,
      origin: new DeferredOrigin(source, resources.length, lineOffset + 1, preciseOrigin),
    } as IstioResource);
  }
  return { resources, issues: [], notices: [] };
}

/** A resource as a worker sends it back: everything but its origin. */
export type PlainResource = Omit<IstioResource, 'origin'>;

/**
 * Resources parsed elsewhere (by a worker, from `chunk`): their lines are found on first use by
 * parsing the chunk here, precisely, as for a fast-parsed resource.
 */
export function attachOrigins(
  source: string,
  chunk: YamlChunk,
  defaultNamespace: string,
  plain: readonly PlainResource[],
): IstioResource[] {
  let precise: ParsedYaml | undefined;
  const preciseOrigin = (index: number): ResourceOrigin | undefined => {
    precise ??= parseIstioYamlPrecise(source, chunk.text, defaultNamespace, chunk.lineOffset);
    return precise.resources[index]?.origin;
  };
  return plain.map(
    (r, i) =>
      ({ ...r, origin: new DeferredOrigin(source, i, chunk.lineOffset + 1, preciseOrigin) }) as IstioResource,
  );
}

/**
 * The precise path: every node keeps its source range so issues can name their line.
 * `lineOffset` is the number of lines before `text` in its file.
 */
export function parseIstioYamlPrecise(
  source: string,
  text: string,
  defaultNamespace: string,
  lineOffset = 0,
): ParsedYaml {
  const lineCounter = new LineCounter();
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    // The parser's own unique-key check compares every pair of keys of a map: a document with
    // 50,000 keys took 32 s. Keys are checked below, in one pass.
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (err) {
    // The parser's own limits (a stack overflow on absurd nesting): input, not a crash.
    return {
      resources: [],
      issues: [{ source, line: lineOffset + 1, path: '', message: `YAML: ${(err as Error).message}` }],
      notices: [],
    };
  }
  const resources: IstioResource[] = [];
  const issues: ConfigIssue[] = [];
  const notices: ConfigIssue[] = [];
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line + lineOffset;

  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const docLine = lineOf(doc.contents?.range?.[0]) ?? lineOffset + 1;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        issues.push({
          source,
          line: lineOf(err.pos[0]),
          path: '',
          message: `YAML syntax: ${err.message.split('\n')[0]}`,
        });
      }
      continue;
    }
    const duplicate = firstDuplicateKey(doc);
    if (duplicate !== undefined) {
      issues.push({
        source,
        line: lineOf(duplicate),
        path: '',
        message: 'YAML syntax: Map keys must be unique',
      });
      continue;
    }
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias to an anchor of another document, or an alias bomb: input, not a crash.
      issues.push({ source, line: docLine, path: '', message: `YAML: ${(err as Error).message}` });
      continue;
    }
    if (raw === null || raw === undefined) continue;
    const locate = (path: readonly (string | number)[]): number | undefined => {
      // Walk up the path until a node with a position is found (a missing field has none).
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) return lineOf(node.range[0]);
      }
      return docLine;
    };
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      issues.push({
        source,
        line: docLine,
        path: '',
        message: 'a document must be a mapping with apiVersion and kind',
      });
      continue;
    }
    const obj = raw as Record<string, unknown>;
    const kind = obj.kind;
    const apiVersion = obj.apiVersion;
    if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
      issues.push({
        source,
        line: docLine,
        path: typeof kind !== 'string' ? 'kind' : 'apiVersion',
        message: 'required string',
      });
      continue;
    }
    const meta = namespaceMeta.safeParse(obj.metadata);
    const name = meta.success
      ? meta.data.name
      : typeof (obj.metadata as { name?: unknown })?.name === 'string'
        ? String((obj.metadata as { name: string }).name)
        : '?';
    const namespace = (meta.success ? meta.data.namespace : undefined) ?? defaultNamespace;
    const resource: ResourceRef = { kind, namespace, name };
    const schema = SPEC_SCHEMAS[kind as IstioKind];
    if (!schema || !ISTIO_NETWORKING_VERSIONS.includes(apiVersion)) {
      // Security policy that is skipped would silently drop protection a sidecar enforced.
      notices.push(
        apiVersion.startsWith('security.istio.io/')
          ? {
              source,
              line: docLine,
              resource,
              path: '',
              message: `not enforced: ${apiVersion} ${kind} is not applied by this version of Dabba; the security policy it describes does not protect this workload`,
              severity: 'warning',
            }
          : {
              source,
              line: docLine,
              resource,
              path: '',
              message: `skipped: ${apiVersion} ${kind} is not a kind Dabba reads`,
            },
      );
      continue;
    }
    if (!meta.success) {
      for (const i of meta.error.issues) {
        const path = ['metadata', ...i.path.map(toKey)];
        issues.push({ source, line: locate(path), resource, path: formatPath(path), message: i.message });
      }
      continue;
    }
    const spec = schema.safeParse(obj.spec ?? {});
    if (!spec.success) {
      for (const i of spec.error.issues) {
        const path = ['spec', ...i.path.map(toKey)];
        const message =
          i.code === 'unrecognized_keys'
            ? `unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}`
            : i.message;
        issues.push({ source, line: locate(path), resource, path: formatPath(path), message });
      }
      continue;
    }
    const origin: ResourceOrigin = { source, line: docLine, locate };
    resources.push({
      kind: kind as IstioKind,
      apiVersion,
      name,
      namespace,
      labels: meta.data.labels ?? {},
      spec: spec.data,
      origin,
    } as IstioResource);
  }
  return { resources, issues, notices };
}

/**
 * The offset of the first key that repeats an earlier key of its map (YAML 1.2 requires unique
 * keys), found with one set per map. Keys that are collections are compared by their text.
 */
function firstDuplicateKey(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        const id = isScalar(key) ? key.value : isNode(key) ? String(key) : key;
        if (seen.has(id)) {
          found = isNode(key) ? key.range?.[0] : undefined;
          return visit.BREAK;
        }
        seen.add(id);
      }
      return undefined;
    },
  });
  return found;
}

function toKey(part: PropertyKey): string | number {
  return typeof part === 'symbol' ? String(part) : part;
}
