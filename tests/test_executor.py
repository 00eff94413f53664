"""Executors: the same pipeline on a local pool and on a real Dask cluster (LocalCluster, several workers)."""

import json
import os
from pathlib import Path

import pytest

from pipeline.errors import ClusterUnavailableError, ExitCode, InputError
from pipeline.executor import WorkerDiedError

from .conftest import DATA

distributed = pytest.importorskip(
    "distributed", reason="the Dask executor needs the optional `dask` extra; `make test` installs it (with `test`)")


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, as `dask worker --nthreads 1` runs them on a machine. A task that
    kills a worker is given up at once (Dask's default retries it on three more workers first)."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as local:
        yield local


def _ingest(run_cli, inputs, *extra):
    result = run_cli("ingest", *map(str, inputs), "--group", "file", "--lang", "eng", "--json", *extra)
    assert result.exit_code == ExitCode.ok, result.output
    return json.loads(result.stdout)


def _texts(archive: Path) -> dict[str, bytes]:
    return {str(p.relative_to(archive)): p.read_bytes()
            for p in sorted((archive / "documents").glob("*/**/*.txt"))}


def test_dask_cluster_gives_the_same_archive_as_the_local_pool(cluster, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli.main import cli

    inputs = [DATA / "pages" / "phototest.tif", DATA / "edge" / "3small.pdf"]
    archives = {"local": tmp_path / "local", "dask": tmp_path / "dask"}
    monkeypatch.chdir(tmp_path)  # relative archive paths: workers must still find the files

    def run(name, *args):
        return CliRunner().invoke(cli, ["--archive", name, *args], catch_exceptions=False)

    reports = {
        "local": _ingest(lambda *a: run("local", *a), inputs, "--jobs", "2"),
        "dask": _ingest(lambda *a: run("dask", *a), inputs, "--cluster", cluster.scheduler_address),
    }
    assert reports["dask"]["summary"]["pages"] == reports["local"]["summary"]["pages"] == 4
    assert _texts(archives["dask"]) == _texts(archives["local"]) != {}
    for words in (["quick", "brown"], ["the"]):
        hits = {name: [(h["document"], h["page"]) for h in
                       json.loads(run(name, "search", *words, "--json").stdout)["hits"]] for name in archives}
        assert hits["dask"] == hits["local"] != []


def _die(task):
    os._exit(3)  # a worker killed mid-page (out of memory, a crash in native code)


def _fail_or_echo(task):
    if task == "bad":
        raise InputError(Path("bad.tif"), "refused on purpose")
    return task * 2


def test_dask_executor_maps_failures_like_the_local_pool(cluster):
    from pipeline.dask_executor import DaskExecutor

    executor = DaskExecutor(cluster.scheduler_address)
    try:
        outcomes = {o.task: o for o in executor.run(_fail_or_echo, ["a", "bad", "c"])}
        assert outcomes["a"].result == "aa" and outcomes["c"].result == "cc"
        assert isinstance(outcomes["bad"].error, InputError) and outcomes["bad"].error.detail == "refused on purpose"
        (died,) = executor.run(_die, ["page"])
        assert isinstance(died.error, WorkerDiedError)
    finally:
        executor.close()


def test_unreachable_scheduler_is_a_typed_error():
    from pipeline.dask_executor import DaskExecutor

    with pytest.raises(ClusterUnavailableError, match="tcp://127.0.0.1:9"):
        DaskExecutor("tcp://127.0.0.1:9", connect_seconds=1)


def test_a_web_port_given_for_the_scheduler_is_said_within_the_timeout():
    """The dashboard's port (8787, beside the scheduler's 8786) held the connection's handshake forever."""
    import http.server
    import threading
    import time

    from pipeline.dask_executor import DaskExecutor

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(ClusterUnavailableError, match="no Dask scheduler answered"):
            DaskExecutor(f"tcp://127.0.0.1:{web.server_address[1]}", connect_seconds=2)
    finally:
        web.shutdown()
    assert time.monotonic() - started < 30


def _english_only_tessdata(folder: Path) -> Path:
    """A Tesseract data folder with English and the script model only (a worker without `ron`)."""
    folder.mkdir()
    for name in ("eng.traineddata", "osd.traineddata"):
        (folder / name).symlink_to(Path("/usr/share/tesseract-ocr/5/tessdata") / name)
    return folder


def test_a_worker_without_a_language_of_the_batch_is_named_before_any_page_is_read(tmp_path):
    """A worker without `ron` read Romanian pages with English alone, and said nothing."""
    from pipeline.dask_executor import DaskExecutor

    tessdata = _english_only_tessdata(tmp_path / "tessdata")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  worker_dashboard_address=None, env={"TESSDATA_PREFIX": str(tessdata)}) as lacking:
        with pytest.raises(ClusterUnavailableError, match="has no ron"):
            DaskExecutor(lacking.scheduler_address, languages=("ron", "eng"))
        DaskExecutor(lacking.scheduler_address, languages=("eng",)).close()  # what it has: accepted


def _refuse_to_load():
    raise ModuleNotFoundError("No module named 'pipeline'")


class CheckWorkerWithoutRetrodigDouble:
    """Stands in for the language check on a worker without retrodig installed (every worker here shares this
    machine's retrodig): the worker cannot load the call it is sent."""

    def __call__(self, languages):
        return []

    def __reduce__(self):
        return _refuse_to_load, ()


def test_a_worker_that_cannot_run_retrodig_is_named(cluster, monkeypatch):
    from pipeline.dask_executor import DaskExecutor

    monkeypatch.setattr("pipeline.dask_executor.tesseract.missing_languages", CheckWorkerWithoutRetrodigDouble())
    with pytest.raises(ClusterUnavailableError, match=r"the Dask worker tcp://\S+ of tcp://\S+ cannot run retrodig "
                                                      r"\(.*No module named 'pipeline'"):
        DaskExecutor(cluster.scheduler_address, languages=("eng",))


def _slow_echo(task):
    import time

    time.sleep(0.5)
    return task


def test_a_worker_joining_during_the_batch_without_a_language_of_it_stops_the_batch(tmp_path):
    """A worker that joined later was never checked: it failed every page it took as missing-dependency, taking
    them as fast as it failed them."""
    import subprocess
    import sys
    import time

    from pipeline.dask_executor import DaskExecutor

    env = {**os.environ, "TESSDATA_PREFIX": str(_english_only_tessdata(tmp_path / "tessdata")),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  worker_dashboard_address=None) as local:
        executor = DaskExecutor(local.scheduler_address, languages=("ron", "eng"))
        late = None
        try:
            with pytest.raises(ClusterUnavailableError, match="has no ron.*joined during the batch"):
                for number, _ in enumerate(executor.run(_slow_echo, range(200))):
                    if number == 0:
                        late = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                                                 local.scheduler_address, "--nthreads", "1", "--no-dashboard"],
                                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        started = time.monotonic()
            assert time.monotonic() - started < 60
        finally:
            executor.close()
            if late is not None:
                late.terminate()
                late.wait(30)


def test_a_batch_without_any_worker_stops_with_a_sentence(tmp_path):
    """With no worker connected the batch waited forever, without a word."""
    from pipeline.dask_executor import DaskExecutor

    with distributed.LocalCluster(n_workers=0, dashboard_address=":0", worker_dashboard_address=None) as empty:
        executor = DaskExecutor(empty.scheduler_address, no_worker_seconds=3)
        try:
            with pytest.raises(ClusterUnavailableError, match="no Dask worker has been connected"):
                list(executor.run(_fail_or_echo, ["a"]))
        finally:
            executor.close()


def test_cluster_address_is_checked_and_can_come_from_the_archive_config(run_cli, archive_dir, phototest,
                                                                        monkeypatch):
    monkeypatch.setattr("pipeline.dask_executor.CONNECT_SECONDS", 1)
    result = run_cli("ingest", str(phototest), "--cluster", "scheduler:8786")
    assert result.exit_code == ExitCode.usage and "--cluster" in result.output
    archive_dir.mkdir()
    (archive_dir / "retrodig.yaml").write_text("cluster: tcp://127.0.0.1:9\n")
    result = run_cli("ingest", str(phototest), "--lang", "eng")
    assert result.exit_code == ExitCode.missing_dependency and "tcp://127.0.0.1:9" in result.output
    # Stopped before any file was done, it is a stopped run all the same: its report is kept (none was).
    [kept] = [json.loads(path.read_text()) for path in (archive_dir / "runs").glob("2*.json")]
    assert (kept["summary"]["stopped_by"], kept["summary"]["exit_code"]) == ("error", ExitCode.missing_dependency)
    # One batch on this machine all the same (--jobs went to the cluster too; --cluster "" blamed the file).
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--cluster", "none").exit_code == ExitCode.ok


def test_a_page_failing_for_a_missing_language_is_not_reported_as_a_bug():
    """A worker that lacked a language pack failed its pages as "internal-error: ... please report it"."""
    from pipeline.errors import MissingDependencyError
    from pipeline.run import _as_input_error

    error = _as_input_error(MissingDependencyError("Tesseract could not load the language data for 'ron'"), None,
                            Path("scan.tif"))
    assert error.reason == "missing-dependency" and "please report" not in error.detail and "ron" in error.detail
