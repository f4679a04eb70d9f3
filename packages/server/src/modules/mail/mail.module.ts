export { createMailer, type Mailer, type MailMessage } from './mailer.ts';
export { createNotifier, type Notifier, type NotificationKind } from './notifications.ts';
