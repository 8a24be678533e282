// The `email` action's sender lives in base/smtp.ts, shared with the email notification channel.
export { sendMail, smtpPort, type SmtpSettings, type OutgoingMail, type SentMail } from '../../base/smtp.js';
