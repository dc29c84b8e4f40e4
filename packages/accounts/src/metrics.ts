import { Counter, Registry } from 'prom-client';

/** The accounts' counters, in the website's registry (its /metrics) or a private one. */
export function createAccountMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    attempts: new Counter({
      name: 'accounts_attempts_total',
      help: 'Sign-ups and sign-ins (action: signup, signin) by outcome (ok; conflict: the email has an account; wrong: email or password; limited: refused by a rate limit).',
      labelNames: ['action', 'outcome'] as const,
      registers,
    }),
    csrfRefusals: new Counter({
      name: 'accounts_csrf_refusals_total',
      help: 'Writes refused (403) for a missing or wrong CSRF token.',
      registers,
    }),
  };
}

export type AccountMetrics = ReturnType<typeof createAccountMetrics>;
