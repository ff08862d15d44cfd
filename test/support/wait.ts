/** The repository's tests wait the way the published contract suite does: one implementation. */
export { delay, waitFor } from '@syncopate/messaging/testing';
