// Small pieces the channel folders share for their schemas and Apprise-style URLs.
import { z } from 'zod';
import { ChannelError } from '../core/notification-channel.js';
import { isHttpsOrLoopback } from '../core/channel-http.js';

/** A service address: https, or http only to this machine (tokens travel in these requests). */
export const serviceUrl = (label: string, help: string) =>
  z
    .string()
    .trim()
    .url('an address like https://example.org')
    .refine(isHttpsOrLoopback, { message: 'use https:// (plain http only to 127.0.0.1/localhost)' })
    .meta({ label, help });

/** The path segments of a URL, decoded, empty ones dropped. */
export function segments(url: URL): string[] {
  return url.pathname
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
}

/** A missing part of an Apprise URL: the message names the field it would have filled. */
export function missing(field: string, example: string): ChannelError {
  return new ChannelError(`the URL has no ${field}; write it like ${example}`, { permanent: true, field: 'url' });
}

/** http(s) origin for a scheme pair like ntfy/ntfys: the "s" form is https. */
export function originOf(url: URL, secureScheme: string): string {
  const https = url.protocol === `${secureScheme}:`;
  return `${https ? 'https' : 'http'}://${url.host}`;
}
