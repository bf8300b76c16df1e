/**
 * How a request reaches one endpoint, decided from the endpoint's transport (the cluster's
 * `transport_socket`, or the `transport_socket_matches` entry its metadata selects), the
 * request's scheme and the port's protocol. Pure; the endpoint pools build connections from it.
 *
 * - The cluster originates TLS (DestinationRule SIMPLE/MUTUAL, or an xDS UpstreamTlsContext):
 *   TLS with those settings, whatever the scheme (one TLS layer: an `https://` request to such a
 *   cluster is not wrapped twice, as a sidecar would when the application also speaks TLS). If
 *   those settings verify nothing, an `https://` request still checks the server as the
 *   application would have.
 * - Istio mTLS: refused until this mesh has a workload identity; never plaintext.
 * - TLS whose credentials cannot be had (a Kubernetes secret): refused.
 * - Otherwise plaintext, unless the request is `https://` or its port is declared HTTPS or TLS:
 *   then TLS as the application's own client would do it (Node's CA store, the request's host
 *   as SNI and as the name the certificate must carry), since with a sidecar the application
 *   would have spoken that TLS itself and the sidecar passed it through.
 */
import type { UpstreamTls, UpstreamTransport } from '@dabba/discovery';
import { TlsUnavailable } from './tls-unavailable.ts';

export type ConnectionPlan =
  | { readonly kind: 'plaintext'; readonly key: string }
  | { readonly kind: 'tls'; readonly key: string; readonly tls: UpstreamTls }
  | { readonly kind: 'refused'; readonly key: string; readonly error: TlsUnavailable };

const PLAIN: ConnectionPlan = Object.freeze({ kind: 'plaintext', key: 'plaintext' });

/** TLS as an HTTPS client library does it: system roots, SNI and name check from the host. */
export const APPLICATION_TLS: UpstreamTls = Object.freeze({
  sni: '',
  autoSni: true,
  autoSanValidation: true,
  alpn: [],
  minVersion: undefined,
  maxVersion: undefined,
  cipherSuites: [],
  ecdhCurves: [],
  trust: Object.freeze({ kind: 'system' }),
  sanMatchers: [],
  crl: undefined,
  clientCertificate: undefined,
});

const APPLICATION_TLS_PLAN: ConnectionPlan = Object.freeze({
  kind: 'tls',
  key: 'application-tls',
  tls: APPLICATION_TLS,
});

/** Refusals by reason, so that every pool refusing for one reason shares one error object. */
const refusals = new Map<string, ConnectionPlan>();

function refused(key: string, error: () => TlsUnavailable): ConnectionPlan {
  let plan = refusals.get(key);
  if (plan === undefined) {
    plan = Object.freeze({ kind: 'refused', key, error: error() });
    if (refusals.size < 1024) refusals.set(key, plan);
  }
  return plan;
}

/**
 * @param secure the request's scheme is `https`
 * @param applicationTls the port is declared HTTPS or TLS: its clients speak TLS themselves
 */
export function planConnection(
  transport: UpstreamTransport,
  secure: boolean,
  applicationTls: boolean,
): ConnectionPlan {
  switch (transport.kind) {
    case 'tls':
      // An https:// URL says the server is authenticated: where the cluster's TLS verifies
      // nothing (insecureSkipVerify), the application's own check still applies, as it would
      // inside the sidecar's TLS.
      if (secure && transport.tls.trust === undefined)
        return {
          kind: 'tls',
          key: `${transport.key}|application-verified`,
          tls: { ...transport.tls, trust: APPLICATION_TLS.trust, autoSanValidation: true, sanMatchers: [] },
        };
      return { kind: 'tls', key: transport.key, tls: transport.tls };
    case 'istio-mutual':
      return refused('istio-mutual', () => TlsUnavailable.noWorkloadIdentity());
    case 'unavailable':
      return refused(transport.key, () => TlsUnavailable.credentials(transport.reason));
    default:
      return secure || applicationTls ? APPLICATION_TLS_PLAN : PLAIN;
  }
}
