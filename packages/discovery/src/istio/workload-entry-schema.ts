/** Schema of networking.istio.io WorkloadEntry `spec` (also the shape of ServiceEntry endpoints). */
import { z } from 'zod';
import { labels } from './schema-common.ts';

export const workloadEntrySpec = z.strictObject({
  address: z.string().optional(),
  ports: z.record(z.string(), z.number().int().min(1).max(65535)).optional(),
  labels: labels.optional(),
  network: z.string().optional(),
  locality: z.string().optional(),
  weight: z.number().int().min(0).optional(),
  serviceAccount: z.string().optional(),
});
export type WorkloadEntrySpec = z.infer<typeof workloadEntrySpec>;
