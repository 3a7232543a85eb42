// Reusable parameter schemas. Everything a user can pass ends up in a program
// only through one of these: closed enums, bounded integers, or strings that
// match a strict allowlist pattern. Messages name the rule; the catalog's
// validateParams prefixes the field path.
import { z } from 'zod';

export const SYMBOL_RE = /^[A-Za-z_][A-Za-z0-9_:.]{0,127}$/;
export const PATH_RE = /^[A-Za-z0-9_./+-]+$/;
export const SYSCALL_RE = /^[a-z][a-z0-9_]{0,39}$/;

export const symbolName = () =>
  z
    .string({ error: 'must be a string' })
    .regex(SYMBOL_RE, { error: `must be a symbol name matching ${SYMBOL_RE.source}` })
    .refine((s) => !s.includes(':::') && !s.endsWith(':'), { error: 'must not contain ":::" or end with ":"' });

/** An absolute path inside the target's root filesystem (no "..", no "//", allowlisted characters). */
export const absPath = () =>
  z
    .string({ error: 'must be a string' })
    .max(255, { error: 'must be at most 255 characters' })
    .regex(PATH_RE, { error: `must contain only ${PATH_RE.source.slice(1, -1)} characters` })
    .refine((s) => s.startsWith('/'), { error: 'must be an absolute path (start with "/")' })
    .refine((s) => !s.split('/').includes('..'), { error: 'must not contain ".." segments' })
    .refine((s) => !s.includes('//'), { error: 'must not contain "//"' });

export const syscallName = () =>
  z.string({ error: 'must be a string' }).regex(SYSCALL_RE, { error: `must be a syscall name matching ${SYSCALL_RE.source}` });

export const boundedInt = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be >= ${min}` })
    .max(max, { error: `must be <= ${max}` });

export const port = () => boundedInt(1, 65535);

export const bool = () => z.boolean({ error: 'must be true or false' });

export const noParams = () => z.object({}).strict();
