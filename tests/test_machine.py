"""The CPU a benchmark names in its report."""

from llmkb import machine


def test_cpu_name_reads_the_model_name_else_falls_back(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Fake\nmodel name\t: Fake CPU @ 3.00GHz\n\nprocessor\t: 1\n")
    assert machine.cpu_name(cpuinfo) == "Fake CPU @ 3.00GHz"
    monkeypatch.setattr(machine.platform, "processor", lambda: "fakearch")
    assert machine.cpu_name(tmp_path / "missing") == "fakearch"
    cpuinfo.write_text("processor\t: 0\n")
    assert machine.cpu_name(cpuinfo) == "fakearch"
