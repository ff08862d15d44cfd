import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import nodemailer from 'nodemailer';
import type { Mailer } from './mailer.js';
import { mailKeyFor } from './message-id.js';

/**
 * With no SMTP server configured, emails become .eml files (openable in any mail client), one per
 * event: the name comes from the event id, so a redelivery overwrites its file instead of adding one.
 */
export function createEmlMailer(options: { directory: string }): Mailer {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

  return {
    kind: 'eml',
    async send(email, { signal }) {
      await mkdir(options.directory, { recursive: true });
      const info = await composer.sendMail({
        from: email.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        signal,
      });
      const bytes = Buffer.isBuffer(info.message) ? info.message : await buffer(info.message);
      const path = join(options.directory, `${mailKeyFor(email.eventId)}.eml`);
      // Written aside and renamed: a reader (or a crash) never sees half a message under the final name.
      const partial = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(partial, bytes, { signal });
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return { messageId: info.messageId };
    },
    async close() {
      composer.close();
    },
  };
}
