/** One RouteAction.hash_policy entry, its policy specifier as `kind`. */
export type HashPolicyModel =
  | {
      readonly kind: 'header';
      /** As configured. */
      readonly headerName: string;
      readonly terminal: boolean;
    }
  | {
      readonly kind: 'cookie';
      readonly name: string;
      /** `ttl` in milliseconds; undefined when unset. */
      readonly ttlMs: number | undefined;
      readonly path: string;
      readonly terminal: boolean;
    }
  | { readonly kind: 'connectionProperties'; readonly sourceIp: boolean; readonly terminal: boolean }
  | { readonly kind: 'queryParameter'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'filterState'; readonly key: string; readonly terminal: boolean };
