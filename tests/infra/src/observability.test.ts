/**
 * Prometheus and Grafana: `promtool` accepts the scrape configuration and the alert rules, Prometheus scrapes every
 * app (the web at `/-/metrics`) with the metrics token, and every metric a dashboard panel or an alert queries is one
 * the apps export — read from their sources, not from a list kept here — with label values the sources use.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { composeServices } from './compose-file.js';
import { exportedMetricNames, filesUnder, promqlExactMatchers, promqlMetricNames, read, run, tempDir, which } from './support.js';

const promtool = which('promtool');
const SKIP = promtool ? false : 'promtool is not installed (Debian package prometheus; scripts/setup.sh installs it)';

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(read('infra', 'grafana', 'dashboards', 'eventcast.json')) as { uid: string; panels: Panel[] };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const alerts = parse(read('infra', 'prometheus', 'alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };

/** Every string literal of the apps' and libs' sources (label values a query may match exactly). */
function sourceStrings(): Set<string> {
  const out = new Set<string>();
  for (const f of [...filesUnder('apps', (n) => n.endsWith('.ts') && !n.includes('.test.')), ...filesUnder('libs', (n) => n.endsWith('.ts') && !n.includes('.test.'))])
    for (const m of readFileSync(f, 'utf8').matchAll(/'([^'\n]{1,80})'|"([^"\n]{1,80})"/g)) out.add(m[1] ?? m[2]!);
  return out;
}

describe('Prometheus and Grafana', () => {
  const cleanup: (() => void)[] = [];
  after(() => cleanup.forEach((c) => c()));

  it('promtool check config accepts prometheus.yml (with its token file) and check rules accepts alerts.yml', { skip: SKIP }, () => {
    const dir = tempDir('prom');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'token'), 'test-metrics-token-0123456789');
    // the token file is a compose secret at /run/secrets/…; the rules file sits beside the config
    writeFileSync(join(dir, 'prometheus.yml'), read('infra', 'prometheus', 'prometheus.yml').replaceAll('/run/secrets/eventcast-metrics-token', join(dir, 'token')));
    writeFileSync(join(dir, 'alerts.yml'), read('infra', 'prometheus', 'alerts.yml'));
    const r = run(promtool!, ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 6 rules found/);
  });

  it('scrapes every app on its port (the web at /-/metrics) with the metrics token', () => {
    const prom = parse(read('infra', 'prometheus', 'prometheus.yml')) as {
      scrape_configs: { job_name: string; metrics_path?: string; authorization?: { credentials_file?: string }; static_configs: { targets: string[] }[] }[];
    };
    const services = composeServices();
    const expected: Record<string, string> = { 'command-api': 'COMMAND_API_PORT', 'query-api': 'QUERY_API_PORT', realtime: 'REALTIME_PORT', ingest: 'INGEST_HTTP_PORT', web: 'PORT' };
    for (const [app, portVar] of Object.entries(expected)) {
      const job = prom.scrape_configs.find((j) => j.job_name === app);
      assert.ok(job, `scrape job ${app}`);
      const env = services[app]!['environment'] as Record<string, string>;
      assert.deepEqual(job.static_configs.flatMap((s) => s.targets), [`${app}:${env[portVar]}`]);
      assert.equal(job.metrics_path ?? '/metrics', app === 'web' ? '/-/metrics' : '/metrics');
      assert.equal(job.authorization?.credentials_file, '/run/secrets/eventcast-metrics-token');
    }
  });

  it('the dashboard has the panels the operators need, each on the provisioned data source', () => {
    const ds = parse(read('infra', 'grafana', 'provisioning', 'datasources', 'prometheus.yaml')) as { datasources: { uid: string }[] };
    const uid = ds.datasources[0]!.uid;
    const queries = panels.filter((p) => p.type !== 'row');
    for (const p of queries) assert.equal(p.datasource?.uid, uid, `${p.title}: data source`);
    const titles = queries.map((p) => p.title.toLowerCase()).join(' | ');
    for (const need of ['ingest bitrate', 'projection lag', 'chat frames', 'websocket connections', 'http latency']) assert.ok(titles.includes(need), `a panel on ${need}: ${titles}`);
    const provider = parse(read('infra', 'grafana', 'provisioning', 'dashboards', 'eventcast.yaml')) as { providers: { options: { path: string } }[] };
    const grafana = composeServices()['grafana']!['volumes'] as string[];
    assert.ok(grafana.includes(`./grafana/dashboards:${provider.providers[0]!.options.path}:ro`), 'compose mounts the dashboards where the provider reads them');
  });

  it('every metric a panel or an alert queries is exported by the apps, with label values their sources use', () => {
    const exported = exportedMetricNames();
    const strings = sourceStrings();
    const exprs = [...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))), ...alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })))];
    assert.ok(exprs.length >= 20, `${exprs.length} queries`);
    const unknown: string[] = [];
    for (const { where, expr } of exprs) {
      const names = promqlMetricNames(expr);
      if (names.length === 0) unknown.push(`${where}: no metric in ${expr}`);
      for (const n of names) if (!exported.has(n)) unknown.push(`${where}: ${n} is not exported by any app`);
      for (const { label, value } of promqlExactMatchers(expr)) {
        // `up{job=…}` names Prometheus jobs (prometheus.yml), not a source label
        if (label === 'job') continue;
        if (!strings.has(value)) unknown.push(`${where}: ${label}="${value}" appears nowhere in the sources`);
      }
    }
    assert.deepEqual(unknown, []);
  });

  it('PromQL metric extraction sees through functions, matchers and groupings (and catches a wrong name)', () => {
    assert.deepEqual(promqlMetricNames('histogram_quantile(0.99, sum by (app, le) (rate(eventcast_http_request_duration_seconds_bucket{app="x"}[5m])))'), ['eventcast_http_request_duration_seconds_bucket']);
    const exported = exportedMetricNames();
    assert.ok(exported.has('eventcast_ingest_received_bytes_total') && exported.has('nodejs_eventloop_lag_p99_seconds'));
    assert.ok(!exported.has('eventcast_ingest_bitrate_bps'));
  });
});
