/**
 * The shape check every option object of `createMesh()` starts with: it must be a plain object,
 * and every key must be one the option knows, so a misspelt option is reported instead of
 * silently ignored. Problems are added to `issues`, as the resolvers report them all together.
 */
import type { ConfigIssue } from '@dabba/discovery';

/**
 * Whether `value` is an object (else one issue at `path`); pushes one issue per unknown key,
 * listing the known ones.
 */
export function checkOptionObject(
  value: unknown,
  path: string,
  known: ReadonlySet<string>,
  source: string,
  issues: ConfigIssue[],
): value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ source, path, message: 'must be an object' });
    return false;
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      issues.push({
        source,
        path: path === '' ? key : `${path}.${key}`,
        message: `unknown option (known: ${[...known].join(', ')})`,
      });
    }
  }
  return true;
}
