// The two Open-Meteo endpoints we use (forecast and geocoding), their answers checked with zod so that a changed
// or garbage answer becomes a readable error instead of NaN readings.
import { z } from 'zod';
import type { MonitorContext } from '../../core/monitor.js';

export const DEFAULT_FORECAST_URL = 'https://api.open-meteo.com';
export const DEFAULT_GEOCODING_URL = 'https://geocoding-api.open-meteo.com';
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

const num = z.number().nullable().optional();
const forecastSchema = z.object({
  latitude: z.number(),
  longitude: z.number(),
  timezone: z.string().optional(),
  utc_offset_seconds: z.number().optional(),
  current_units: z.record(z.string(), z.string()).optional(),
  current: z.object({
    time: z.number(),
    temperature_2m: num,
    apparent_temperature: num,
    relative_humidity_2m: num,
    wind_speed_10m: num,
    precipitation: num,
    weather_code: num,
    is_day: num,
  }),
  hourly: z
    .object({
      time: z.array(z.number()),
      precipitation: z.array(z.number().nullable()).optional(),
      precipitation_probability: z.array(z.number().nullable()).optional(),
      weather_code: z.array(z.number().nullable()).optional(),
    })
    .optional(),
});
export type Forecast = z.infer<typeof forecastSchema>;

const geocodingSchema = z.object({
  results: z
    .array(
      z.object({
        name: z.string(),
        latitude: z.number(),
        longitude: z.number(),
        country: z.string().optional(),
        admin1: z.string().optional(),
        timezone: z.string().optional(),
      }),
    )
    .optional(),
});

export interface Place {
  name: string;
  latitude: number;
  longitude: number;
}

export interface Units {
  temperature: 'celsius' | 'fahrenheit';
  windSpeed: 'kmh' | 'mph' | 'ms' | 'kn';
  precipitation: 'mm' | 'inch';
}

export const HOURS_AHEAD = 6;

export async function fetchForecast(ctx: Fetcher, baseUrl: string, place: Place, units: Units, signal: AbortSignal): Promise<Forecast> {
  const url = new URL('/v1/forecast', baseUrl);
  const q = url.searchParams;
  q.set('latitude', String(place.latitude));
  q.set('longitude', String(place.longitude));
  q.set('current', 'temperature_2m,apparent_temperature,relative_humidity_2m,wind_speed_10m,precipitation,weather_code,is_day');
  q.set('hourly', 'precipitation,precipitation_probability,weather_code');
  q.set('forecast_hours', String(HOURS_AHEAD));
  q.set('temperature_unit', units.temperature);
  q.set('wind_speed_unit', units.windSpeed);
  q.set('precipitation_unit', units.precipitation);
  q.set('timeformat', 'unixtime');
  q.set('timezone', 'auto');
  return checked(forecastSchema, await getJson(ctx, url, signal, 'forecast'), 'forecast');
}

export async function geocode(ctx: Fetcher, baseUrl: string, name: string, signal: AbortSignal): Promise<Place> {
  const [hit] = await searchPlaces(ctx, baseUrl, name, 1, signal);
  return hit!;
}

/** A place the geocoder found, with what tells it apart from others of its name. */
export interface FoundPlace extends Place {
  country: string | null;
  region: string | null;
}

/**
 * The places called `name`, best first (Open-Meteo orders by relevance and population), at most `count`; `name` of
 * each is "Town, Region, Country" so that two Springfields stay apart. Throws when there is none.
 */
export async function searchPlaces(ctx: Fetcher, baseUrl: string, name: string, count: number, signal: AbortSignal): Promise<FoundPlace[]> {
  const url = new URL('/v1/search', baseUrl);
  url.searchParams.set('name', name);
  url.searchParams.set('count', String(count));
  url.searchParams.set('language', 'en');
  url.searchParams.set('format', 'json');
  const answer = checked(geocodingSchema, await getJson(ctx, url, signal, 'geocoding'), 'geocoding');
  const hits = answer.results ?? [];
  if (!hits.length) throw new Error(`Open-Meteo knows no place called “${name}”; try a nearby town or give latitude and longitude`);
  return hits.map((hit) => ({
    name: [hit.name, hit.admin1, hit.country].filter((p, i, all) => p && all.indexOf(p) === i).join(', '),
    latitude: hit.latitude,
    longitude: hit.longitude,
    country: hit.country ?? null,
    region: hit.admin1 ?? null,
  }));
}

type Fetcher = Pick<MonitorContext, 'fetch'>;

/** GET and parse JSON; Open-Meteo explains a refusal as `{ "error": true, "reason": "…" }`, which we pass on. */
async function getJson(ctx: Fetcher, url: URL, signal: AbortSignal, what: string): Promise<unknown> {
  const res = await ctx.fetch(url.href, { signal, maxBytes: MAX_ANSWER_BYTES, timeoutMs: 20_000, headers: { accept: 'application/json' } });
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new Error(`Open-Meteo ${what} answered HTTP ${res.status} with something that is not JSON`);
  }
  const reason = (json as { error?: unknown; reason?: unknown } | null)?.reason;
  if (!res.ok || (json as { error?: unknown } | null)?.error === true) {
    const why = typeof reason === 'string' ? reason : 'no reason given';
    throw new Error(`Open-Meteo ${what} refused the request (HTTP ${res.status}): ${why}`);
  }
  return json;
}

function checked<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new Error(`Open-Meteo ${what} answer is not in the expected format (${first ? `${first.path.join('.') || 'answer'}: ${first.message}` : 'unknown'})`);
}
