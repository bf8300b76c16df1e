/**
 * What every demo instance answers: who it is. The demo counts these to show where the mesh
 * sent each request.
 */
export interface InstanceReply {
  readonly instance: string;
  readonly service: string;
  readonly version: string;
  readonly locality: string;
}

/** Parses a reply body, or throws naming what was wrong with it. */
export function parseInstanceReply(text: string): InstanceReply {
  const value = JSON.parse(text) as Partial<InstanceReply>;
  for (const key of ['instance', 'service', 'version', 'locality'] as const) {
    if (typeof value[key] !== 'string') throw new Error(`instance reply without "${key}": ${text}`);
  }
  return value as InstanceReply;
}
