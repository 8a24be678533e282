import { z } from 'zod';

export const ircConfigSchema = z.object({
  network: z.string().min(1).max(60).optional().meta({ label: 'Network name', help: 'Shown on events (field "network") and used by the "chat" action to pick this connection; defaults to the server host.' }),
  host: z.string().min(1).meta({ label: 'Server', help: 'IRC server host name, e.g. irc.libera.chat.' }),
  port: z.number().int().min(1).max(65535).optional().meta({ label: 'Port', help: 'Defaults to 6697 with TLS, 6667 without.' }),
  tls: z.boolean().default(true).meta({ label: 'TLS', help: 'Encrypt the connection. Turn off only for a server on this machine or one without TLS.' }),
  ca: z.string().min(1).optional().meta({ label: 'CA file', help: 'Path of a PEM file with a private CA. When set, the server\'s TLS certificate must be signed by it, instead of by a CA this system trusts.' }),
  nick: z.string().min(1).max(30).regex(/^[A-Za-z[\]\\`^{}|_][A-Za-z0-9[\]\\`^{}|_-]*$/, 'not a valid IRC nick').meta({ label: 'Nick', help: 'Your nick. If it is taken, Panoptes appends "_" and keeps trying to get it back.' }),
  username: z.string().min(1).max(30).optional().meta({ label: 'User name', help: 'The ident/user part; defaults to the nick.' }),
  realname: z.string().max(100).optional().meta({ label: 'Real name', help: 'Shown in WHOIS.' }),
  password: z.string().optional().meta({ label: 'Server password', help: 'Only if the server needs one (PASS). Stored in the secret store.', secret: true }),
  saslAccount: z.string().optional().meta({ label: 'SASL account', help: 'Account name for SASL PLAIN login (NickServ account).' }),
  saslPassword: z.string().optional().meta({ label: 'SASL password', help: 'Stored in the secret store.', secret: true }),
  channels: z.array(z.string().regex(/^[#&+!][^\s,\x07]{1,49}$/, 'channel names start with # (or &, +, !)')).default([]).meta({ label: 'Channels', help: 'Channels to join, e.g. #panoptes.' }),
  allMessages: z.boolean().default(false).meta({ label: 'Every channel message', help: 'Emit chat.message for every message in the joined channels, not only mentions.' }),
  keywords: z.array(z.string().min(1).max(100)).default([]).meta({ label: 'Keywords', help: 'Words that count as a mention besides your nick (whole words, any case).' }),
});

export type IrcConfig = z.infer<typeof ircConfigSchema>;

export const ircPort = (c: Pick<IrcConfig, 'port' | 'tls'>) => c.port ?? (c.tls ? 6697 : 6667);
export const networkName = (c: Pick<IrcConfig, 'network' | 'host'>) => c.network ?? c.host;
