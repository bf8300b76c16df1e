/**
 * The outlier detection decoder as the tests call it: a Cluster's `outlier_detection` in, the
 * resolved config out, or the ConfigError a source would report.
 */
import {
  ConfigError,
  decodeOutlierDetection,
  IssueSink,
  type OutlierConfig,
  type OutlierDetection,
} from '@dabba/discovery';

export function compileOutlierDetection(
  xds: OutlierDetection | undefined,
  from: { readonly clusterName?: string } = {},
): OutlierConfig | undefined {
  const sink = new IssueSink('xds', { kind: 'Cluster', name: from.clusterName ?? '' });
  const config = decodeOutlierDetection(xds, sink);
  const result = sink.result(config);
  if (!result.ok) throw new ConfigError(result.issues);
  return config;
}
