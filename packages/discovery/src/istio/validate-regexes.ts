/**
 * Checks every regular expression in VirtualServices with RE2, the engine Envoy's `safe_regex`
 * uses, so a pattern Envoy would reject (backreferences, lookaround) is reported against the
 * Istio resource, file and line rather than later against generated xDS.
 */
import { re2Problem } from '../decode/re2.ts';
import type { ConfigIssue } from '../errors.ts';
import { formatPath, type VirtualService } from './istio-resource.ts';
import type { StringMatch } from './schema-common.ts';

const check = re2Problem;

export function validateRegexes(vs: VirtualService): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report = (path: (string | number)[], regex: string) => {
    const problem = check(regex);
    if (problem === undefined) return;
    issues.push({
      source: vs.origin.source,
      line: vs.origin.locate(path),
      resource: { kind: vs.kind, namespace: vs.namespace, name: vs.name },
      path: formatPath(path),
      message: `invalid RE2 regular expression "${regex}": ${problem}`,
    });
  };
  const visit = (m: StringMatch | undefined, path: (string | number)[], header = true) => {
    // For headers and query parameters istiod turns the regex `*` into present_match.
    if (m?.regex === undefined || (header && m.regex === '*')) return;
    report([...path, 'regex'], m.regex);
  };
  (vs.spec.http ?? []).forEach((h, i) => {
    (h.match ?? []).forEach((m, j) => {
      const base = ['spec', 'http', i, 'match', j];
      visit(m.uri, [...base, 'uri'], false);
      visit(m.scheme, [...base, 'scheme']);
      visit(m.method, [...base, 'method']);
      visit(m.authority, [...base, 'authority']);
      for (const [k, v] of Object.entries(m.headers ?? {})) visit(v, [...base, 'headers', k]);
      for (const [k, v] of Object.entries(m.withoutHeaders ?? {})) visit(v, [...base, 'withoutHeaders', k]);
      for (const [k, v] of Object.entries(m.queryParams ?? {})) visit(v, [...base, 'queryParams', k]);
    });
    if (h.rewrite?.uriRegexRewrite)
      report(['spec', 'http', i, 'rewrite', 'uriRegexRewrite', 'match'], h.rewrite.uriRegexRewrite.match);
  });
  return issues;
}
