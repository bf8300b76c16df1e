/** The random source of every drawn decision: @dabba/core's, re-exported where the LB reads it. */
export { type RandomSource, randomUint32 } from '@dabba/core';
