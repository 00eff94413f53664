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
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout="1s")


def test_cluster_address_is_checked_and_can_come_from_the_archive_config(run_cli, archive_dir, phototest,
                                                                        monkeypatch):
    monkeypatch.setattr("pipeline.dask_executor.CONNECT_TIMEOUT", "1s")
    result = run_cli("ingest", str(phototest), "--cluster", "scheduler:8786")
    assert result.exit_code == ExitCode.usage and "--cluster" in result.output
    archive_dir.mkdir()
    (archive_dir / "retrodig.yaml").write_text("cluster: tcp://127.0.0.1:9\n")
    result = run_cli("ingest", str(phototest), "--lang", "eng")
    assert result.exit_code == ExitCode.missing_dependency and "tcp://127.0.0.1:9" in result.output
