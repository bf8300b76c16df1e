/** Schema of networking.istio.io ServiceEntry `spec`. */
import { z } from 'zod';
import { labels, port, wildcardDomain } from './schema-common.ts';
import { workloadEntrySpec } from './workload-entry-schema.ts';

const servicePort = z.strictObject({
  number: port,
  protocol: z.string().optional(),
  name: z.string().min(1),
  targetPort: port.optional(),
});
export type IstioServicePort = z.infer<typeof servicePort>;

export const serviceEntrySpec = z.strictObject({
  // istiod's ValidateServiceEntry: a full wildcard is refused, others as ValidateWildcardDomain.
  hosts: z
    .array(
      wildcardDomain.check((ctx) => {
        if (ctx.value === '*')
          ctx.issues.push({ code: 'custom', message: 'invalid host *', input: ctx.value });
      }),
    )
    .min(1),
  addresses: z.array(z.string()).optional(),
  ports: z.array(servicePort).optional(),
  location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
  resolution: z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']).optional(),
  endpoints: z.array(workloadEntrySpec).optional(),
  workloadSelector: z.strictObject({ labels: labels.optional() }).optional(),
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string()).optional(),
});
export type ServiceEntrySpec = z.infer<typeof serviceEntrySpec>;
