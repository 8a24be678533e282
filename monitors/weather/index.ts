// Weather from Open-Meteo (no API key): a `weather.reading` every check, and a `weather.alert` when a condition
// the user cares about starts (rain within the hour, severe weather, temperature or wind past a threshold).
import { z } from 'zod';
import type { MonitorContext, MonitorDefinition } from '../../core/monitor.js';
import type { NewEvent } from '../../core/event.js';
import { isDuration, parseDuration } from '../../core/duration.js';
import { DEFAULT_FORECAST_URL, DEFAULT_GEOCODING_URL, fetchForecast, geocode, HOURS_AHEAD, searchPlaces, type Forecast, type Place, type Units } from './open-meteo.js';
import { HttpError } from '../../base/http.js';
import { describeWeatherCode, SEVERE_CODES } from './wmo-codes.js';

/** Open-Meteo updates its models every 15 minutes at best; polling faster only costs their free service. */
const MIN_INTERVAL_MS = 10 * 60_000;

const optionalNumber = (label: string, help: string) => z.number().optional().meta({ label, help });

export const weatherConfigSchema = z
  .object({
    place: z.string().trim().min(1).optional().meta({ label: 'Place', help: 'A town or city name, looked up with Open-Meteo geocoding (e.g. "Berlin"). Or give latitude and longitude instead.' }),
    latitude: z.number().min(-90).max(90).optional().meta({ label: 'Latitude', help: 'Decimal degrees, north positive (e.g. 52.52).' }),
    longitude: z.number().min(-180).max(180).optional().meta({ label: 'Longitude', help: 'Decimal degrees, east positive (e.g. 13.41).' }),
    temperatureUnit: z.enum(['celsius', 'fahrenheit']).default('celsius').meta({ label: 'Temperature unit', help: '°C or °F; thresholds below use the same unit.' }),
    windSpeedUnit: z.enum(['kmh', 'mph', 'ms', 'kn']).default('kmh').meta({ label: 'Wind speed unit', help: 'km/h, mph, m/s or knots; the wind threshold uses the same unit.' }),
    precipitationUnit: z.enum(['mm', 'inch']).default('mm').meta({ label: 'Precipitation unit', help: 'Millimetres or inches.' }),
    interval: z.string().default('30m').refine(isDuration, { message: 'write a duration like "30m" or "1h"' }).meta({ label: 'Check every', help: 'How often to fetch the weather (at least 10m).' }),
    alertRainSoon: z.boolean().default(true).meta({ label: 'Alert: rain within the hour', help: 'Alert when precipitation is expected within the next hour.' }),
    rainProbability: z.number().min(0).max(100).default(50).meta({ label: 'Rain probability (%)', help: 'A forecast slot counts as rain from this probability on (or when it forecasts any precipitation amount).' }),
    alertSevere: z.boolean().default(true).meta({ label: 'Alert: severe weather', help: 'Alert on thunderstorms, heavy rain or snow and freezing rain now or within the next hours.' }),
    temperatureAbove: optionalNumber('Alert: temperature above', 'Alert when the temperature rises above this value.'),
    temperatureBelow: optionalNumber('Alert: temperature below', 'Alert when the temperature falls below this value (frost warning).'),
    windAbove: optionalNumber('Alert: wind above', 'Alert when the wind speed exceeds this value.'),
    baseUrl: z.url({ protocol: /^https?$/ }).default(DEFAULT_FORECAST_URL).meta({ label: 'Forecast API address', help: 'Change only for a self-hosted Open-Meteo.' }),
    geocodingBaseUrl: z.url({ protocol: /^https?$/ }).default(DEFAULT_GEOCODING_URL).meta({ label: 'Geocoding API address', help: 'Change only for a self-hosted Open-Meteo geocoder.' }),
  })
  .refine((c) => c.place !== undefined || (c.latitude !== undefined && c.longitude !== undefined), {
    message: 'give a place name, or both latitude and longitude',
    path: ['place'],
  });
export type WeatherConfig = z.infer<typeof weatherConfigSchema>;

interface HourSlot {
  time: string;
  precipitation: number | null;
  probability: number | null;
  weatherCode: number | null;
}

interface Alert {
  kind: 'rain-soon' | 'severe' | 'hot' | 'cold' | 'windy';
  message: string;
  value: number | null;
  threshold: number | null;
}

const UNIT_LABEL = {
  celsius: '°C',
  fahrenheit: '°F',
  kmh: 'km/h',
  mph: 'mph',
  ms: 'm/s',
  kn: 'kn',
  mm: 'mm',
  inch: 'in',
} as const;

const definition: MonitorDefinition<WeatherConfig> = {
  type: 'weather',
  badge: 'WX',
  category: 'World',
  title: 'Weather',
  description: 'Current weather and the next hours from Open-Meteo (no API key), with alerts for rain, severe weather, heat, frost and wind.',
  configSchema: weatherConfigSchema,
  minIntervalMs: MIN_INTERVAL_MS,
  events: [
    {
      type: 'weather.reading',
      description: 'The weather now, every check.',
      fields: {
        place: "Place name (from geocoding), or the monitor's name when it is given by latitude and longitude",
        latitude: 'Latitude of the forecast grid cell',
        longitude: 'Longitude of the forecast grid cell',
        temperature: 'Air temperature at 2 m, in the configured unit',
        apparentTemperature: 'Feels-like temperature',
        humidity: 'Relative humidity, %',
        windSpeed: 'Wind speed at 10 m, in the configured unit',
        precipitation: 'Precipitation in the current interval, in the configured unit',
        weatherCode: 'WMO weather code',
        description: 'The weather code in words, e.g. "Slight rain"',
        isDay: 'true between sunrise and sunset',
        units: '{ temperature, windSpeed, precipitation } unit labels',
        nextHours: `Forecast for the next ${HOURS_AHEAD} hours: [{ time (ISO), precipitation, probability (%), weatherCode }]`,
        precipitationNextHour: 'Precipitation forecast for the coming hour',
        rainWithinHour: 'true when precipitation is expected within the next hour',
      },
    },
    {
      type: 'weather.alert',
      description: 'A condition you asked about has just started (it fires again only after it has ended).',
      fields: {
        kind: '"rain-soon", "severe", "hot", "cold" or "windy"',
        message: 'What is happening, in words',
        value: 'The measured or forecast value that triggered it',
        threshold: 'The configured threshold, if any',
        place: 'Place name',
      },
    },
  ],
  // The form looks the place up before saving, so the user sees which Springfield it is and the monitor keeps its
  // coordinates (and the name it was chosen by, which names its readings and chart).
  lookup: {
    field: 'place',
    label: 'Find place',
    choicesLabel: 'Places found',
    fills: ['latitude', 'longitude'],
    async search(query, config, { fetch, signal }) {
      const base = typeof config.geocodingBaseUrl === 'string' && config.geocodingBaseUrl.trim() ? config.geocodingBaseUrl.trim() : DEFAULT_GEOCODING_URL;
      if (!URL.canParse(base)) throw new Error('The Geocoding API address is not a full address (http://… or https://…)');
      let places;
      try {
        places = await searchPlaces({ fetch }, base, query, 10, signal);
      } catch (err) {
        if (err instanceof HttpError) throw new Error(`Could not reach the place finder (${err.message}); try again later, or give latitude and longitude`);
        throw err;
      }
      return places.map((p) => ({
        label: p.name,
        detail: coordinates(p.latitude, p.longitude),
        values: { place: p.name, latitude: p.latitude, longitude: p.longitude },
      }));
    },
  },
  create(ctx) {
    const cfg = ctx.config;
    const units: Units = { temperature: cfg.temperatureUnit, windSpeed: cfg.windSpeedUnit, precipitation: cfg.precipitationUnit };
    const intervalMs = Math.max(parseDuration(cfg.interval), MIN_INTERVAL_MS);

    const check = async (signal: AbortSignal) => {
      const place = await resolvePlace(ctx, signal);
      const forecast = await fetchForecast(ctx, cfg.baseUrl, place, units, signal);
      const reading = toReading(forecast, place, units, cfg.rainProbability);
      await ctx.emit(reading);

      const alerts = findAlerts(cfg, forecast, reading.fields);
      // Alerts fire when a condition starts, not on every check while it lasts.
      const wasActive = new Set(ctx.dryRun ? [] : (ctx.state.get<string[]>('activeAlerts') ?? []));
      for (const a of alerts) {
        if (wasActive.has(a.kind)) continue;
        await ctx.emit({
          type: 'weather.alert',
          ts: reading.ts,
          title: `${place.name}: ${a.message}`,
          body: `${reading.title}`,
          fields: { ...a, place: place.name },
          tags: ['weather', a.kind],
        });
      }
      ctx.state.set('activeAlerts', alerts.map((a) => a.kind));
    };

    return {
      start() {
        ctx.every(intervalMs, check, { timeoutMs: 45_000 });
      },
      stop() {},
    };
  },
};

export default definition;

/** "52.5244° N, 13.4105° E": how people write a position. */
function coordinates(latitude: number, longitude: number): string {
  const f = (v: number) => Math.abs(v).toFixed(4);
  return `${f(latitude)}° ${latitude < 0 ? 'S' : 'N'}, ${f(longitude)}° ${longitude < 0 ? 'W' : 'E'}`;
}

async function resolvePlace(ctx: MonitorContext<WeatherConfig>, signal: AbortSignal): Promise<Place> {
  const { place, latitude, longitude } = ctx.config;
  if (latitude !== undefined && longitude !== undefined) {
    // Given by coordinates alone, the place is called what the user called the monitor ("Home"), not "52.52, 13.41".
    return { name: place ?? ctx.name, latitude, longitude };
  }
  // Places do not move: look the name up once and remember it.
  const key = `geocode:${place}`;
  const cached = ctx.state.get<Place>(key);
  if (cached) return cached;
  const found = await geocode(ctx, ctx.config.geocodingBaseUrl, place!, signal);
  ctx.state.set(key, found);
  return found;
}

function toReading(f: Forecast, place: Place, units: Units, rainProbability: number) {
  const c = f.current;
  const now = c.time * 1000;
  const hours: HourSlot[] = [];
  const h = f.hourly;
  if (h) {
    for (let i = 0; i < h.time.length && hours.length < HOURS_AHEAD; i++) {
      const start = h.time[i]! * 1000;
      if (start + 3_600_000 <= now) continue; // slots that already ended
      hours.push({ time: new Date(start).toISOString(), precipitation: h.precipitation?.[i] ?? null, probability: h.precipitation_probability?.[i] ?? null, weatherCode: h.weather_code?.[i] ?? null });
    }
  }
  // The coming hour overlaps at most two hourly slots: the one we are in and the next.
  const soon = hours.filter((s) => Date.parse(s.time) < now + 3_600_000);
  const precipitationNextHour = soon.length ? Math.max(...soon.map((s) => s.precipitation ?? 0)) : null;
  const rainWithinHour = soon.some((s) => (s.precipitation ?? 0) > 0 || (s.probability ?? 0) >= rainProbability) || (c.precipitation ?? 0) > 0;
  const code = c.weather_code ?? null;
  const description = describeWeatherCode(code);
  const t = c.temperature_2m ?? null;
  const unitLabels = { temperature: UNIT_LABEL[units.temperature], windSpeed: UNIT_LABEL[units.windSpeed], precipitation: UNIT_LABEL[units.precipitation] };
  return {
    type: 'weather.reading',
    ts: new Date(now).toISOString(),
    title: `${place.name}: ${description}${t !== null ? `, ${t}${unitLabels.temperature}` : ''}`,
    body: rainWithinHour ? 'Precipitation expected within the hour.' : '',
    url: null,
    fields: {
      place: place.name,
      latitude: f.latitude,
      longitude: f.longitude,
      temperature: t,
      apparentTemperature: c.apparent_temperature ?? null,
      humidity: c.relative_humidity_2m ?? null,
      windSpeed: c.wind_speed_10m ?? null,
      precipitation: c.precipitation ?? null,
      weatherCode: code,
      description,
      isDay: c.is_day === null || c.is_day === undefined ? null : c.is_day === 1,
      units: unitLabels,
      nextHours: hours,
      precipitationNextHour,
      rainWithinHour,
    },
    tags: ['weather'],
  } satisfies NewEvent & { ts: string; fields: Record<string, unknown> };
}

function findAlerts(cfg: WeatherConfig, f: Forecast, r: ReturnType<typeof toReading>['fields']): Alert[] {
  const alerts: Alert[] = [];
  const u = r.units;
  if (cfg.alertRainSoon && r.rainWithinHour) {
    alerts.push({ kind: 'rain-soon', message: `precipitation within the hour${r.precipitationNextHour ? ` (${r.precipitationNextHour} ${u.precipitation})` : ''}`, value: r.precipitationNextHour, threshold: null });
  }
  if (cfg.alertSevere) {
    const codes = [f.current.weather_code ?? null, ...r.nextHours.map((s) => s.weatherCode)];
    const severe = codes.find((c): c is number => c !== null && SEVERE_CODES.has(c));
    if (severe !== undefined) {
      const now = f.current.weather_code === severe;
      alerts.push({ kind: 'severe', message: `${describeWeatherCode(severe)}${now ? ' now' : ' expected in the next hours'}`, value: severe, threshold: null });
    }
  }
  const t = r.temperature;
  if (t !== null && cfg.temperatureAbove !== undefined && t > cfg.temperatureAbove) {
    alerts.push({ kind: 'hot', message: `temperature ${t}${u.temperature} is above ${cfg.temperatureAbove}${u.temperature}`, value: t, threshold: cfg.temperatureAbove });
  }
  if (t !== null && cfg.temperatureBelow !== undefined && t < cfg.temperatureBelow) {
    alerts.push({ kind: 'cold', message: `temperature ${t}${u.temperature} is below ${cfg.temperatureBelow}${u.temperature}`, value: t, threshold: cfg.temperatureBelow });
  }
  const w = r.windSpeed;
  if (w !== null && cfg.windAbove !== undefined && w > cfg.windAbove) {
    alerts.push({ kind: 'windy', message: `wind ${w} ${u.windSpeed} is above ${cfg.windAbove} ${u.windSpeed}`, value: w, threshold: cfg.windAbove });
  }
  return alerts;
}
