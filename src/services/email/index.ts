import { paymentEvents } from '../../contracts/payment-events.js';
import type { ServiceModule } from '../../platform/service.js';
import { createEmailService, EMAIL_GROUP } from './email-service.js';

export {
  createEmailService,
  EMAIL_GROUP,
  EMAIL_SERVICE_DEFAULTS,
  type EmailServiceOptions,
  type EmailServiceOptionsInput,
} from './email-service.js';

export const emailModule: ServiceModule = {
  name: 'email',
  groups: [{ group: EMAIL_GROUP, events: paymentEvents }],
  create: (context) => createEmailService(context),
};
