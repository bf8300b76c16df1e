/**
 * The worker side of off-thread-parser.ts: parses one large YAML document and sends back what
 * can cross threads (resources without their origin, issues, notices).
 */
import { parentPort } from 'node:worker_threads';
import { type ParseOptions, type PlainResource, parseDocument } from './parse-istio-yaml.ts';
import type { YamlChunk } from './split-yaml-documents.ts';

export interface ParseRequest {
  readonly id: number;
  readonly source: string;
  readonly chunk: YamlChunk;
  readonly options: ParseOptions;
}

parentPort?.on('message', (request: ParseRequest) => {
  try {
    const parsed = parseDocument(request.source, request.chunk, request.options);
    const resources: PlainResource[] = parsed.resources.map(({ origin: _origin, ...rest }) => rest);
    parentPort!.postMessage({ id: request.id, resources, issues: parsed.issues, notices: parsed.notices });
  } catch (err) {
    parentPort!.postMessage({ id: request.id, error: String((err as Error)?.message ?? err) });
  }
});
