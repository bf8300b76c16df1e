import { MatchContext, type RandomValueSource, type RequestView } from '../../src/route/match/index.ts';

/** A request view for tests: `url` is path[?query], headers as a plain object. */
export function ctx(
  url: string,
  headers: Record<string, string | string[]> = {},
  extra: { method?: string; authority?: string; scheme?: string; random?: RandomValueSource } = {},
): MatchContext {
  const q = url.indexOf('?');
  const view: RequestView = {
    method: extra.method ?? 'GET',
    scheme: extra.scheme ?? 'http',
    authority: extra.authority ?? 'reviews:9080',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
  };
  return new MatchContext(view, extra.random);
}
