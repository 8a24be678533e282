import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import weather from '../../monitors/weather/index.js';
import { dryRunMonitor } from '../../core/monitor-host.js';
import { createTestContext, startAndTick } from './web-test-context.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

const root = process.env.PANOPTES_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => readFileSync(path.join(root, 'test/fixtures/weather', name));

/** A local stand-in for Open-Meteo: answers /v1/forecast and /v1/search from recorded answers in its documented format. */
let forecastReply: (res: http.ServerResponse) => void = json(200, 'forecast-clear.json');
let geocodeReply: (res: http.ServerResponse) => void = json(200, 'geocoding-berlin.json');
let server: TestServer;
const requests = () => server.requests.map((r) => new URL(r.path, 'http://x'));
let base = '';

function json(status: number, file: string) {
  return (res: http.ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(fixture(file));
  };
}

before(async () => {
  server = await startTestServer();
  server.route('/v1/forecast', (_req, res) => forecastReply(res));
  server.route('/v1/search', (_req, res) => geocodeReply(res));
  base = server.origin;
});
after(() => server.close());

const cfg = (extra: Record<string, unknown> = {}) => ({ baseUrl: base, geocodingBaseUrl: base, ...extra });

test('a place name is geocoded once; the reading carries the documented fields in the chosen units', async () => {
  const seen = server.requests.length;
  forecastReply = json(200, 'forecast-clear.json');
  const t = await startAndTick(weather, cfg({ place: 'Berlin', temperatureUnit: 'fahrenheit', windSpeedUnit: 'mph' }));
  await t.tick();
  assert.deepEqual(t.errors, []);
  assert.equal(requests().slice(seen).filter((u) => u.pathname === '/v1/search').length, 1, 'geocoded once, then remembered');
  const f = requests().slice(seen).find((u) => u.pathname === '/v1/forecast')!;
  assert.equal(f.searchParams.get('latitude'), '52.52437');
  assert.equal(f.searchParams.get('temperature_unit'), 'fahrenheit');
  assert.equal(f.searchParams.get('wind_speed_unit'), 'mph');

  assert.equal(t.events.length, 2);
  const r = t.events[0]!;
  assert.equal(r.type, 'weather.reading');
  assert.equal(r.ts, '2024-06-11T10:15:00.000Z');
  assert.equal(r.fields!.place, 'Berlin, Land Berlin, Germany');
  assert.equal(r.fields!.temperature, 21.4);
  assert.equal(r.fields!.apparentTemperature, 20.9);
  assert.equal(r.fields!.humidity, 48);
  assert.equal(r.fields!.windSpeed, 11.2);
  assert.equal(r.fields!.weatherCode, 1);
  assert.equal(r.fields!.description, 'Mainly clear');
  assert.equal(r.fields!.isDay, true);
  assert.deepEqual(r.fields!.units, { temperature: '°F', windSpeed: 'mph', precipitation: 'mm' });
  assert.equal(r.fields!.rainWithinHour, false);
  assert.equal((r.fields!.nextHours as unknown[]).length, 6);
  await t.stop();
});

test('rain within the hour and severe weather alert once when they start, and again only after they ended', async () => {
  forecastReply = json(200, 'forecast-clear.json');
  const t = await startAndTick(weather, cfg({ latitude: 52.52, longitude: 13.41, temperatureBelow: 18 }));
  assert.deepEqual(t.events.map((e) => e.type), ['weather.reading']);

  forecastReply = json(200, 'forecast-rain-soon.json');
  await t.tick();
  const alerts = t.events.filter((e) => e.type === 'weather.alert');
  assert.deepEqual(alerts.map((a) => a.fields!.kind).sort(), ['cold', 'rain-soon', 'severe']);
  const reading = t.events.filter((e) => e.type === 'weather.reading').at(-1)!;
  assert.equal(reading.fields!.rainWithinHour, true);
  assert.equal(reading.fields!.precipitationNextHour, 0.8);
  assert.match(alerts.find((a) => a.fields!.kind === 'severe')!.title!, /Thunderstorm expected/);

  await t.tick();
  assert.equal(t.events.filter((e) => e.type === 'weather.alert').length, 3, 'a lasting condition does not repeat');

  forecastReply = json(200, 'forecast-clear.json');
  await t.tick();
  forecastReply = json(200, 'forecast-rain-soon.json');
  await t.tick();
  assert.equal(t.events.filter((e) => e.type === 'weather.alert').length, 6, 'fires again after it ended');
  await t.stop();
});

test("Open-Meteo's error body, unknown places and broken answers become readable errors; the monitor recovers", async () => {
  const t = createTestContext(weather, cfg({ place: 'Atlantis' }));
  await t.instance.start();
  geocodeReply = json(200, 'geocoding-none.json');
  await t.tick();
  assert.match(t.errors.at(-1)!, /knows no place called “Atlantis”/);

  geocodeReply = json(200, 'geocoding-berlin.json');
  const cases: Array<[string, (res: http.ServerResponse) => void, RegExp]> = [
    ['400 error body', json(400, 'error-400.json'), /refused the request \(HTTP 400\): Cannot initialize TemperatureUnit/],
    ['429 rate limit', json(429, 'error-429.json'), /HTTP 429\): Minutely API request limit exceeded/],
    ['500 html', (res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'), /HTTP 500 with something that is not JSON/],
    ['garbage JSON', (res) => res.writeHead(200).end('{"latitude": "north"}'), /not in the expected format \(latitude/],
    ['connection reset', (res) => res.socket!.destroy(), /reset/],
  ];
  for (const [name, reply, expected] of cases) {
    forecastReply = reply;
    await t.tick();
    assert.match(t.errors.at(-1) ?? '', expected, name);
  }
  assert.equal(t.events.length, 0);
  forecastReply = json(200, 'forecast-clear.json');
  await t.tick();
  assert.equal(t.events.length, 1, 'recovers once the API answers again');
  await t.stop();
});

test('monitor test shows the reading and current alerts; config without a location says which field', async () => {
  forecastReply = json(200, 'forecast-rain-soon.json');
  const events = await dryRunMonitor(weather, cfg({ latitude: 52.52, longitude: 13.41, alertSevere: false }));
  assert.deepEqual(events.map((e) => e.type), ['weather.reading', 'weather.alert']);
  assert.equal(events[1]!.fields.kind, 'rain-soon');

  await assert.rejects(dryRunMonitor(weather, cfg({ latitude: 52.5 })), /place: give a place name, or both latitude and longitude/);
  forecastReply = json(400, 'error-400.json');
  await assert.rejects(dryRunMonitor(weather, cfg({ latitude: 1, longitude: 2 })), /Cannot initialize TemperatureUnit/);
});
