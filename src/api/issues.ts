// Renders zod issues as "spec.field.path: message" so every rejection names
// the field and the rule, the same way the API server's messages do.
import type { z } from 'zod';

export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = 'spec'): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
