import { ALL_MODULES } from '../../src/app/modules.js';
import type { ServiceModule } from '../../src/platform/service.js';
import { createEmailService, type EmailServiceOptionsInput, emailModule } from '../../src/services/email/index.js';

/** Three attempts with short pauses between them: a receipt that keeps failing is dead-lettered within a second. */
export const QUICK_EMAIL: EmailServiceOptionsInput = {
  maxAttempts: 3,
  backoff: { initialDelayMs: 20, maxDelayMs: 50 },
};

/** Every service of the system, the email service created with these options instead of its defaults. */
export function modulesWithEmail(options: EmailServiceOptionsInput = QUICK_EMAIL): ServiceModule[] {
  const email: ServiceModule = { ...emailModule, create: (context) => createEmailService(context, options) };
  return ALL_MODULES.map((module) => (module.name === 'email' ? email : module));
}
