/**
 * Sequential requests through a mesh, recording each status and the `x-upstream` that answered,
 * for tests that count where traffic went.
 */
import { type Dispatcher, request } from 'undici';

export interface Sent {
  readonly status: number;
  readonly upstream: string;
}

export async function send(dispatcher: Dispatcher, url: string): Promise<Sent> {
  const res = await request(url, { dispatcher });
  const upstream = String(res.headers['x-upstream'] ?? '');
  await res.body.text();
  return { status: res.statusCode, upstream };
}

export async function sendMany(dispatcher: Dispatcher, url: string, n: number): Promise<Sent[]> {
  const out: Sent[] = [];
  for (let i = 0; i < n; i++) out.push(await send(dispatcher, url));
  return out;
}
