import { paymentEvents } from '../../contracts/payment-events.js';
import type { ServiceModule } from '../../platform/service.js';
import { createNotifications, LIVE_GROUP, WEBHOOKS_GROUP } from './notifications-service.js';

export { type EventObject, toEventObject } from './event-object.js';
export {
  createNotifications,
  NOTIFICATIONS_DEFAULTS,
  type NotificationsOptions,
  type NotificationsService,
} from './notifications-service.js';
export {
  SIGNATURE_HEADER,
  signPayload,
  type VerifyOptions,
  type VerifyResult,
  verifySignature,
} from './webhook-signature.js';

export const notificationsModule: ServiceModule = {
  name: 'notifications',
  groups: [
    { group: WEBHOOKS_GROUP, events: paymentEvents },
    { group: LIVE_GROUP, events: paymentEvents },
  ],
  create: (context) => createNotifications(context),
};
