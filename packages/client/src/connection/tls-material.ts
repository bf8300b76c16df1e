/**
 * The certificates, keys, CA bundles and CRLs a TLS connection needs, read when a connection is
 * made rather than when the configuration is compiled: files named by a DestinationRule (or an
 * xDS UpstreamTlsContext) are rotated in place by whoever writes them (istio-agent,
 * cert-manager, spiffe-helper), and the next connection must use what is there now. A file is
 * read again only when its size or modification time changed, so a pool opening connections
 * pays one `stat` per file.
 */
import { readFile, stat } from 'node:fs/promises';
import type { TlsData, UpstreamTls } from '@dabba/discovery';
import { TlsUnavailable } from './tls-unavailable.ts';

/** What `tls.connect` is given: PEM text (or DER for a CRL), and `undefined` for Node's default. */
export interface TlsMaterial {
  /** Trusted CAs; `undefined` for Node's CA store (or when nothing is verified). */
  readonly ca: string | Buffer | undefined;
  readonly cert: string | Buffer | undefined;
  readonly key: string | Buffer | undefined;
  readonly crl: string | Buffer | undefined;
}

const cache = new Map<string, { stamp: string; content: Buffer }>();
const MAX_CACHED_FILES = 256;

async function readData(data: TlsData, what: string): Promise<string | Buffer> {
  if (data.kind === 'inline') return typeof data.value === 'string' ? data.value : Buffer.from(data.value);
  try {
    const info = await stat(data.path);
    const stamp = `${info.size}:${info.mtimeMs}:${info.ino}`;
    const hit = cache.get(data.path);
    if (hit !== undefined && hit.stamp === stamp) return hit.content;
    const content = await readFile(data.path);
    if (cache.size >= MAX_CACHED_FILES) cache.clear();
    cache.set(data.path, { stamp, content });
    return content;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw TlsUnavailable.credentials(`cannot read the ${what} file "${data.path}" (${code})`, err);
  }
}

/** Reads what `tls` names; rejects with {@link TlsUnavailable} naming the file it could not read. */
export async function loadTlsMaterial(tls: UpstreamTls): Promise<TlsMaterial> {
  const trust = tls.trust;
  const [ca, cert, key, crl] = await Promise.all([
    trust?.kind === 'data' ? readData(trust.data, 'CA certificates') : undefined,
    tls.clientCertificate ? readData(tls.clientCertificate.certificate, 'client certificate') : undefined,
    tls.clientCertificate ? readData(tls.clientCertificate.privateKey, 'private key') : undefined,
    tls.crl ? readData(tls.crl, 'certificate revocation list') : undefined,
  ]);
  return { ca, cert, key, crl };
}
