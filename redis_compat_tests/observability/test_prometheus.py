"""Keel's native /metrics endpoint scraped by Debian's real Prometheus.

Starts keel-server and a private prometheus (package `prometheus`) on free loopback ports with
a temporary storage directory and a scrape config pointed at Keel (1 s interval), drives
traffic, and asks Prometheus's HTTP API whether rate(keel_commands_total[1m]) and a latency
histogram quantile are there and plausible. Also runs promtool on the shipped alert rules
(check + unit tests) and on a live scrape, and checks that every query of the Grafana
dashboard and of the alert rules names metrics Keel actually exports (against a live scrape)
and is valid PromQL (Prometheus evaluates it). Both processes are stopped by pid.

Environment: KEEL_SERVER (keel-server binary), PROMETHEUS and PROMTOOL (default: on PATH).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis
import yaml

from keelcompat.servers import REPO_ROOT, Server, ServerError, free_ports, keel_server_argv

DOCKER = REPO_ROOT / "docker"
RULES = DOCKER / "prometheus" / "rules" / "keel-alerts.yml"
RULE_TESTS = DOCKER / "prometheus" / "tests" / "keel-alerts_test.yml"
DASHBOARD = DOCKER / "grafana" / "dashboards" / "keel.json"


def tool(env: str, name: str) -> str:
    path = shutil.which(os.environ.get(env, name))
    if not path:
        pytest.fail(f"{name} not found (Debian package `prometheus`, installed by "
                    f"scripts/deps.sh; or set {env})", pytrace=False)
    return path


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


class Prometheus:
    """A private prometheus process; stopped by pid (SIGTERM, then SIGKILL)."""

    def __init__(self, base: Path, metrics_port: int):
        self.port = free_ports(1)[0]
        self.config = base / "prometheus.yml"
        self.config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{
                "job_name": "keel",
                "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
            }],
        }))
        self.log = base / "prometheus.log"
        self.argv = [tool("PROMETHEUS", "prometheus"), f"--config.file={self.config}",
                     f"--storage.tsdb.path={base / 'tsdb'}",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"prometheus exited ({self.proc.returncode}):\n"
                                  + self.log.read_text(errors="replace")[-3000:])
            try:
                if http_get(f"http://127.0.0.1:{self.port}/-/ready", 1).strip():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServerError("prometheus did not become ready within 30 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def api(self, path: str, **params) -> dict:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            body = http_get(url)
        except urllib.error.HTTPError as e:  # 400/422 carry the error as JSON
            body = e.read()
        return json.loads(body)

    def query(self, expr: str) -> list:
        reply = self.api("query", query=expr)
        assert reply["status"] == "success", f"{expr}: {reply}"
        return reply["data"]["result"]

    def wait_for(self, expr: str, timeout: float = 60) -> list:
        """Polls an instant query until it returns at least one non-NaN sample."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result and all(r["value"][1] not in ("NaN", "+Inf", "-Inf") for r in result):
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"no data for {expr} within {timeout}s (last: {result})")
            time.sleep(0.5)


class Traffic:
    """SET/GET pairs from one client on a thread; counts what it sent."""

    def __init__(self, port: int):
        self.client = redis.Redis(port=port)
        self.sent = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            pipe = self.client.pipeline(transaction=False)
            for _ in range(50):
                pipe.set(f"key:{i % 1000}", "x" * 32)
                pipe.get(f"key:{(i * 7) % 1000}")
                i += 1
            pipe.execute()
            self.sent += 100
            time.sleep(0.01)  # a steady, modest load

    def start(self) -> "Traffic":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def rate(self) -> float:
        return self.sent / (time.monotonic() - self.started)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    base = Path(tmp_path_factory.mktemp("observability"))
    port, metrics_port, bus_port = free_ports(3)
    (base / "keel").mkdir()
    # A cluster node (a replica group of one), so that the keel_paxos_* families the
    # dashboard and the alerts use are exported too.
    keel = Server("keel-server",
                  keel_server_argv(port, base / "keel") + [
                      "--metrics-port", str(metrics_port), "--cluster-enabled", "yes",
                      "--cluster-port", str(bus_port)],
                  port, base / "keel.log")
    prom = Prometheus(base, metrics_port)
    error = None
    try:
        keel.start()
        prom.start()
    except ServerError as e:
        error = str(e)
    if error:
        prom.stop()
        keel.stop()
        pytest.fail(error, pytrace=False)
    deadline = time.monotonic() + 10
    while redis.Redis(port=port).execute_command("ROLE")[0] != b"master":
        assert time.monotonic() < deadline, "the node did not come to lead its group"
        time.sleep(0.05)
    traffic = Traffic(port).start()
    try:
        yield {"keel": keel, "prom": prom, "metrics_port": metrics_port, "traffic": traffic,
               "base": base}
    finally:
        traffic.stop()
        prom.stop()
        keel.stop()


def scrape(stack) -> str:
    return http_get(f"http://127.0.0.1:{stack['metrics_port']}/metrics").decode()


def exported_names(text: str) -> set[str]:
    """Every series name a scrape can produce (histograms: _bucket, _sum, _count)."""
    names = set()
    for m in re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.M):
        name, kind = m.groups()
        names.add(name)
        if kind in ("histogram", "summary"):
            names.update({name + "_bucket", name + "_sum", name + "_count"})
    return names


METRIC_RE = re.compile(r"\b((?:keel|process)_[a-z0-9_]+)\b")


def substitute(expr: str) -> str:
    """Grafana's variables, as a query with every instance and command selected."""
    return (expr.replace("$__rate_interval", "1m").replace("${datasource}", "")
            .replace("$instance", ".*").replace("$cmd", ".*"))


def dashboard_queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                out.append((p.get("title", ""), t["expr"]))
            walk(p.get("panels", []))

    walk(board["panels"])
    for var in board["templating"]["list"]:
        q = var.get("query")
        if isinstance(q, dict):
            out.append((f"variable {var['name']}", q["query"]))
    return out


# ------------------------------------------------------------------ Prometheus sees Keel


def test_prometheus_scrapes_keel_and_its_target_is_up(stack):
    result = stack["prom"].wait_for('up{job="keel"} == 1')
    assert result[0]["metric"]["instance"] == f"127.0.0.1:{stack['metrics_port']}"


def test_rate_of_commands_total_is_present_and_plausible(stack):
    prom, traffic = stack["prom"], stack["traffic"]
    by_cmd = prom.wait_for('sum by (cmd) (rate(keel_commands_total{job="keel"}[1m])) > 0')
    rates = {r["metric"]["cmd"]: float(r["value"][1]) for r in by_cmd}
    assert {"set", "get"} <= set(rates), rates
    # Over a short window the rate follows the client's own throughput (same order).
    prom.wait_for('rate(keel_commands_total{job="keel", cmd="set"}[5s]) > 0')
    time.sleep(3)
    short = float(prom.query('sum(rate(keel_commands_total{job="keel", cmd=~"set|get"}[5s]))')
                  [0]["value"][1])
    client = traffic.rate()
    assert 0.25 * client < short < 4 * client, (short, client)
    # The counters themselves match what was sent (modulo the last second of traffic).
    total = float(prom.query('sum(keel_commands_total{job="keel", cmd=~"set|get"})')[0]["value"][1])
    assert 0 < total <= traffic.sent + 100, (total, traffic.sent)


def test_latency_histogram_quantile_is_present_and_plausible(stack):
    prom = stack["prom"]
    expr = ('histogram_quantile({q}, sum by (le) '
            '(rate(keel_command_duration_seconds_bucket{{job="keel", cmd="set"}}[1m])))')
    p50 = float(prom.wait_for(expr.format(q=0.5))[0]["value"][1])
    p99 = float(prom.wait_for(expr.format(q=0.99))[0]["value"][1])
    assert 0 < p50 <= p99 < 1.0, (p50, p99)
    # Keel's own fine-grained percentile (INFO latencystats) is in the same bucket range.
    info = redis.Redis(port=stack["keel"].port).info("latencystats")
    keel_p99_s = float(info["latency_percentiles_usec_set"]["p99"]) / 1e6
    assert keel_p99_s / 5 <= p99 <= max(keel_p99_s * 5, 1e-5), (p99, keel_p99_s)
    # _count and _sum agree with the counters.
    count = float(prom.query('keel_command_duration_seconds_count{job="keel", cmd="set"}')
                  [0]["value"][1])
    calls = float(prom.query('keel_commands_total{job="keel", cmd="set"}')[0]["value"][1])
    assert count == calls


def test_alert_rules_load_and_evaluate_without_errors(stack):
    prom = stack["prom"]
    prom.wait_for('up{job="keel"} == 1')
    deadline = time.monotonic() + 20
    while True:
        groups = prom.api("rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and all(r.get("lastEvaluation", "").startswith("20") and
                         r.get("health") == "ok" for r in rules) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(rules) == 11
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    firing = {r["name"] for r in rules if r["state"] != "inactive"}
    assert "KeelDown" not in firing and "KeelTargetMissing" not in firing, firing


# ------------------------------------------------------------------ promtool


def test_promtool_check_rules_passes_on_the_shipped_rules():
    run = subprocess.run([tool("PROMTOOL", "promtool"), "check", "rules", str(RULES)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_promtool_unit_tests_of_the_alerts_pass():
    run = subprocess.run([tool("PROMTOOL", "promtool"), "test", "rules", str(RULE_TESTS)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_promtool_check_metrics_passes_on_a_scraped_sample(stack):
    text = scrape(stack)
    assert "keel_commands_total{" in text
    run = subprocess.run([tool("PROMTOOL", "promtool"), "check", "metrics"], input=text,
                         capture_output=True, text=True)
    assert run.returncode == 0 and not run.stdout.strip(), run.stdout + run.stderr


# ------------------------------------------------------------------ dashboard and rules vs exports


def test_every_dashboard_query_names_exported_metrics_and_is_valid_promql(stack):
    exported = exported_names(scrape(stack))
    queries = dashboard_queries()
    assert len(queries) > 30
    for title, expr in queries:
        names = set(METRIC_RE.findall(expr))
        assert names or 'up{job="keel"' in expr, f"panel {title!r} queries no Keel metric: {expr}"
        assert names <= exported, f"panel {title!r} uses unexported {names - exported}"
        if expr.startswith("label_values("):
            continue  # Grafana's own function, not PromQL
        reply = stack["prom"].api("query", query=substitute(expr))
        assert reply["status"] == "success", f"panel {title!r}: {reply.get('error')}: {expr}"


def test_the_dashboard_covers_every_area_of_the_issue():
    board = json.loads(DASHBOARD.read_text())
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    for want in ("Throughput", "Latency", "Clients", "Keyspace", "RocksDB health", "Replication"):
        assert want in rows, rows
    exprs = " ".join(e for _, e in dashboard_queries())
    assert "histogram_quantile(0.99" in exprs and "histogram_quantile(0.5" in exprs
    ids = []

    def walk(panels):
        for p in panels:
            ids.append(p["id"])
            walk(p.get("panels", []))

    walk(board["panels"])
    assert len(ids) == len(set(ids)), "panel ids must be unique"


def test_every_alert_rule_names_exported_metrics(stack):
    exported = exported_names(scrape(stack))
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            names = set(METRIC_RE.findall(rule["expr"]))
            assert names <= exported, f"{rule['alert']} uses unexported {names - exported}"
            assert names or "up{" in rule["expr"], rule["alert"]


# ------------------------------------------------------------------ the docker setup's files


def test_compose_provisions_prometheus_and_grafana_from_the_shipped_files():
    compose = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"keel", "prometheus", "grafana"} <= set(services)
    assert services["keel"]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    for service in ("prometheus", "grafana"):
        for volume in services[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DOCKER / source).exists(), f"{service} mounts missing {source}"
    prom = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    assert prom["scrape_configs"][0]["static_configs"][0]["targets"] == [
        "keel:9121", "keel:9122", "keel:9123"]
    # Three Keel nodes as one cluster: the followers share the first node's network.
    for follower in ("keel2", "keel3"):
        assert services[follower]["network_mode"] == "service:keel"
        assert "--cluster-enabled" in services[follower]["command"]
    assert "cluster meet" in " ".join(services["keel-init"]["command"])
    source = yaml.safe_load(
        (DOCKER / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    boards = yaml.safe_load((DOCKER / "grafana/provisioning/dashboards/keel.yml").read_text())
    assert boards["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "EXPOSE 6379 9121" in dockerfile and "FROM debian:12" in dockerfile
