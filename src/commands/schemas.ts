// zod pieces shared by several command argument schemas.
import { z } from 'zod';
import { protocolNames } from '../probe/protocols/index.ts';

/** Commands without options refuse any `--name`. */
export const noOptions = z.object({}).strict();

/** `--protocol`, `--mode`, `--servername`, as for the command line. */
export const targetOptions = z
  .object({
    protocol: z.enum(protocolNames, { error: () => `unknown protocol; known: ${protocolNames.join(', ')}` }).optional(),
    mode: z.enum(['implicit', 'starttls'], { error: () => 'mode must be implicit or starttls' }).optional(),
    servername: z.string().min(1, 'option --servername needs a host name').max(253, 'option --servername is longer than 253 characters').optional(),
  })
  .strict();

/** Longest label a target may carry. */
export const MAX_LABEL = 64;

/** Threshold lists: "30,14,7" (or "30 14 7" after joining words) → [30, 14, 7], descending. */
export const thresholdList = z
  .string()
  .max(100)
  .transform((text, ctx) => {
    const parts = text.split(/[\s,]+/).filter((p) => p !== '');
    const days = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
    if (parts.length === 0 || parts.length > 10 || days.some((d) => Number.isNaN(d) || d > 365)) {
      ctx.addIssue({ code: 'custom', message: 'thresholds are 1 to 10 whole numbers of days from 0 to 365, e.g. 30,14,7' });
      return z.NEVER;
    }
    return [...new Set(days)].sort((a, b) => b - a);
  });

/** An optional page number for paginated lists. */
export const pageNumber = z
  .string()
  .regex(/^\d{1,5}$/, 'the page is a number, e.g. 2')
  .transform(Number)
  .refine((n) => n >= 1, 'pages start at 1');
