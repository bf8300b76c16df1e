/**
 * Parses multi-document Istio YAML into validated resources. Pure: text in, resources and
 * issues out. Every issue names the file, the line, the resource and the field path.
 */
import { isNode, LineCounter, parseAllDocuments } from 'yaml';
import type { ZodType } from 'zod';
import type { ConfigIssue, ResourceRef } from '../errors.ts';
import { destinationRuleSpec } from './destination-rule-schema.ts';
import { formatPath, type IstioKind, type IstioResource, type ResourceOrigin } from './istio-resource.ts';
import { namespaceMeta } from './schema-common.ts';
import { serviceEntrySpec } from './service-entry-schema.ts';
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
}

/** Parses one YAML text (one file) holding any number of `---`-separated documents. */
export function parseIstioYaml(source: string, text: string, options: ParseOptions = {}): ParsedYaml {
  const defaultNamespace = options.defaultNamespace ?? 'default';
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const resources: IstioResource[] = [];
  const issues: ConfigIssue[] = [];
  const notices: ConfigIssue[] = [];
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const docLine = lineOf(doc.contents?.range?.[0]) ?? 1;
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
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
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
      notices.push({
        source,
        line: docLine,
        resource,
        path: '',
        message: `skipped: ${apiVersion} ${kind} is not a kind Dabba reads`,
      });
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

function toKey(part: PropertyKey): string | number {
  return typeof part === 'symbol' ? String(part) : part;
}
