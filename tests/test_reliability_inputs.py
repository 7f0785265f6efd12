"""Bad input through the real flow: a clear reject reason or a correct article per file, and nothing else lost.

Every hostile file gets one reject with a reason or becomes a correct article, the run publishes, and the good
articles beside them come out exactly as they do without them.

One flow run covers all the cases (they are independent files of one directory source), so the whole module costs
one pipeline run plus the session's seed snapshot it compares against. The translator in that run is libretranslate
against a loopback fake with an API key from the environment: the same run proves the key never reaches the output
folder, the run's logs or its Prefect artifacts. HTTP-only cases (gzip bomb, malformed feed, self-referencing
sitemap, redirects, private addresses) are the fetch tests' (tests/test_fetch_http.py; table in docs/reliability.md).
"""

# The non-Latin test texts are the point of these cases.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tasks.fetch.parse import MAX_TEXT_CHARS
from tasks.ids import article_id
from tasks.schemas import PUBLISHED_TABLES
from tests.conftest import SEEDS, write_sources
from tests.faults import RUN_COLUMNS, assert_complete_snapshot
from tests.test_translate_libretranslate import serve_libretranslate

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEY_ENV = "NG_RELIABILITY_TRANSLATOR_KEY"
KEY = "sk-reliability-4c1d2e-must-never-appear"
BIG_BYTES = 50 * 1024 * 1024

KO = (
    "성남시와 카이스트는 4일 인공지능 연구센터 설립을 위한 업무협약을 체결했다고 밝혔다.\n"
    "이번 협약에 따라 두 기관은 판교 제2테크노밸리에서 공동 연구를 진행한다."
)
# Syllables outside EUC-KR's 2,350 (똠, 햏, 뷁): only CP949 (Windows code page 949) encodes them in two bytes.
KO_CP949 = (
    "대구시는 똠방각하 논란 이후 인공지능 특구 지정을 위한 계획을 발표했다.\n"
    "시는 햏 프로젝트와 뷁 센터에 2025년까지 300억원을 투자한다고 밝혔다."
)
JA = (
    "東京都は5日、人工知能の研究開発を支援する新たな計画を発表した。\n"
    "都内の中小企業を対象に、最大で一千万円の補助金を交付するという。"
)
KO_UTF16 = (
    "수원시는 11일 인공지능 교육센터를 개관했다고 밝혔다.\n센터는 매년 청년 500명에게 데이터 분석 교육을 제공한다."
)
JA_UTF16 = (
    "大阪府は12日、生成AIを活用した行政サービスの実証実験を始めると発表した。\n"
    "実験には府内の三つの市が参加し、来年三月まで続ける。"
)
EN_UTF16 = (
    "Incheon city said on Wednesday it will build a data centre for artificial intelligence start-ups.\n"
    "The centre near the airport is due to open in 2026 and will rent servers to forty companies."
)
DOTS_EN = (
    "Suwon opened a robotics laboratory on Friday for students of its three universities.\n"
    "The laboratory has twelve industrial arms and a budget of 2 billion won this year."
)
DOTS_RU = "Пусан открыл в пятницу лабораторию робототехники.\nВ ней будут работать сорок инженеров."
ZH = (
    "深圳市政府周一宣布，将投资五十亿元建设人工智能产业园，吸引国内外企业入驻。\n"
    "该园区预计于2026年建成，届时将容纳超过两百家科技公司。"
)
RU = (
    "Правительство Сеула в понедельник объявило о создании нового центра искусственного интеллекта.\n"
    "Центр начнёт работу в 2026 году и примет более двухсот исследователей."
)
# Zero-width space, zero-width joiner, soft hyphen, BEL, vertical tab and BOM inside the names.
NAMES = (
    "Seong\u200bnam city and KA\u200dIST signed a research agreement with Dae\u0007jeon officials on Monday.\n"
    "Gwang\u00adju and In\ufeffcheon will join the programme next year, the\u000bcity said."
)
MIXED_ENDINGS = (
    "Gwangju announced an AI data centre plan on Friday.\r\nThe plan covers three districts.\r"
    "Officials said construction starts next year.\n\r\nA second phase follows in 2027, the city said.\n"
)
BOILERPLATE = "이 기사를 공유합니다\n댓글 0\n  • page print\nCopyright © Example News. All rights reserved."
WORDS = "river", "market", "council", "budget", "harbour", "library", "station", "tunnel", "garden", "bridge"


def _long_line(chars: int) -> str:
    """One line of `chars` characters of prose without a line break."""
    out, size, i = [], 0, 0
    while size < chars:
        word = f"{WORDS[i % len(WORDS)]}{i}"
        out.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(out)[:chars]


def _bad_inputs(folder: Path) -> None:
    """Write every hostile file into the seeds folder (one directory source)."""
    files: dict[str, bytes] = {
        "empty.txt": b"",
        "image.html": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        "report.html": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)),
        "invalid-utf8.txt": b"Ulsan said on Thursday that \xff\x81\xfe it opened an AI lab.",
        "euc-kr.txt": KO.encode("euc-kr"),
        "cp949.txt": KO_CP949.encode("cp949"),
        "shift-jis.txt": JA.encode("shift_jis"),
        "utf16-bom.txt": JA_UTF16.encode("utf-16"),
        "utf16le-no-bom.txt": EN_UTF16.encode("utf-16-le"),
        "utf16be-no-bom.txt": KO_UTF16.encode("utf-16-be"),
        "mixed-endings.txt": MIXED_ENDINGS.encode(),
        "boilerplate-only.txt": BOILERPLATE.encode(),
        "no-article.html": (
            b"<html><head><title>Menu</title></head><body><nav><a href='/'>Home</a> <a href='/news'>News</a>"
            b"</nav><footer>Contact</footer></body></html>"
        ),
        "chinese.txt": ZH.encode(),
        "russian.txt": RU.encode(),
        "names-with-invisibles.txt": NAMES.encode(),
        "long-line.txt": _long_line(200_000).encode(),
        "too-long.txt": _long_line(MAX_TEXT_CHARS + 1000).encode(),
        "huge-record.jsonl": json.dumps({"title": "Dump", "text": _long_line(MAX_TEXT_CHARS + 10)}).encode() + b"\n",
        "copy of seed.txt": next(SEEDS.glob("000_*.txt")).read_bytes(),
        # Values a record states never become paths: ids and URLs with dot segments only feed hashes.
        "traversal.jsonl": (
            json.dumps({"id": "../../../../evil-id", "title": "Dots", "text": DOTS_EN})
            + "\n"
            + json.dumps({"url": "https://example.invalid/../../../evil-url", "text": DOTS_RU})
            + "\n"
        ).encode(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with (folder / "fifty-megabytes.txt").open("wb") as fh:
        line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n"
        fh.write(line * (BIG_BYTES // len(line) + 1))


def _settings(folder: Path, url: str) -> Path:
    path = folder / "settings.toml"
    path.write_text(
        f'[pipeline]\ntranslator = "libretranslate"\n\n[pipeline.translator_options.libretranslate]\n'
        f'url = "{url}"\napi_key_env = "{KEY_ENV}"\ntimeout = 5.0\nretries = 1\nbackoff = 0.0\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One flow run over the seeds plus every hostile file; its result, output folder and folders."""
    from flows.nightly import nightly

    work = tmp_path_factory.mktemp("hostile")
    shutil.copytree(SEEDS, work / "seeds")
    _bad_inputs(work / "seeds")
    write_sources(work, work / "seeds", name="seeds")
    saved = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = KEY  # the key reaches the translator the way a deployment's would: the environment
    try:
        with serve_libretranslate(api_key=KEY) as fake:
            result = nightly(
                sources_file=str(work / "sources.toml"),
                settings_file=str(_settings(work, fake.url)),
                output_dir=str(work / "output"),
            )
            requests = len(fake.requests)
    finally:
        if saved is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = saved
    current = (work / "output" / "current").resolve()
    tables = {name: pl.read_parquet(sorted((current / name).glob("*.parquet"))) for name in PUBLISHED_TABLES}
    return {"result": result, "work": work, "current": current, "tables": tables, "translator_requests": requests}


def _uri(name: str) -> str:
    return f"seeds/{name}"


def _article(run: dict, name: str) -> dict:
    rows = run["tables"]["articles"].filter(pl.col("source_uri") == _uri(name))
    assert rows.height == 1, f"{name}: {rows.height} articles"
    return rows.row(0, named=True)


def _rejects(run: dict, name: str) -> list[tuple[str, str]]:
    rows = run["tables"]["rejects"].filter(pl.col("source_uri") == _uri(name))
    return sorted(zip(rows["stage"], rows["reason"], strict=True))


def test_the_run_publishes_despite_every_hostile_file(hostile_run):
    assert hostile_run["result"]["published"] is True
    assert_complete_snapshot(hostile_run["current"])


@pytest.mark.parametrize(
    ("name", "stage", "reason"),
    [
        ("empty.txt", "fetch", "empty_document"),
        ("image.html", "fetch", "binary_content"),
        ("report.html", "fetch", "binary_content"),
        ("fifty-megabytes.txt", "fetch", "too_large"),
        ("too-long.txt", "fetch", "too_long"),
        ("huge-record.jsonl#1", "fetch", "too_long"),
        ("no-article.html", "fetch", "no_main_text"),
        ("copy of seed.txt", "fetch", "duplicate_content"),
        ("boilerplate-only.txt", "clean", "boilerplate_only"),
    ],
)
def test_unusable_files_become_one_reject_each_with_a_clear_reason(hostile_run, name, stage, reason):
    assert _rejects(hostile_run, name) == [(stage, reason)]
    row = hostile_run["tables"]["rejects"].filter(pl.col("source_uri") == _uri(name)).row(0, named=True)
    assert row["detail"]
    assert hostile_run["tables"]["articles"].filter(pl.col("source_uri") == _uri(name)).height == 0


def test_invalid_utf8_is_rejected_as_undecodable_or_kept_without_replacement_characters(hostile_run):
    rejects = _rejects(hostile_run, "invalid-utf8.txt")
    if rejects:
        assert rejects == [("fetch", "undecodable")]
    else:
        body = _article(hostile_run, "invalid-utf8.txt")["body"]
        assert "\ufffd" not in body
        assert "Ulsan said on Thursday" in body


@pytest.mark.parametrize(
    ("name", "text", "language"),
    [
        ("euc-kr.txt", KO, "ko"),
        ("cp949.txt", KO_CP949, "ko"),
        ("shift-jis.txt", JA, "ja"),
        ("utf16-bom.txt", JA_UTF16, "ja"),
        ("utf16le-no-bom.txt", EN_UTF16, "en"),
        ("utf16be-no-bom.txt", KO_UTF16, "ko"),
        ("chinese.txt", ZH, "zh"),
        ("russian.txt", RU, "ru"),
    ],
)
def test_legacy_encodings_and_other_languages_become_correct_labelled_articles(hostile_run, name, text, language):
    article = _article(hostile_run, name)
    assert article["body"] == text.replace("\n", "\n\n")
    # Chinese and Russian are kept and labelled as what they are, never forced into ko/ja/en.
    assert article["language"] == language
    assert _rejects(hostile_run, name) == []


def test_mixed_line_endings_give_the_same_paragraphs_as_unix_ones(hostile_run):
    article = _article(hostile_run, "mixed-endings.txt")
    assert "\r" not in article["body"]
    assert article["body"].split("\n\n") == [line for line in re.split(r"\r\n|\r|\n", MIXED_ENDINGS) if line]
    paragraphs = hostile_run["tables"]["paragraphs"].filter(pl.col("article_id") == article["article_id"])
    assert paragraphs.height == 4


def test_invisible_and_control_characters_inside_names_are_removed_and_the_names_found(hostile_run):
    article = _article(hostile_run, "names-with-invisibles.txt")
    body = article["body"]
    assert not [c for c in body if c != "\n" and unicodedata.category(c) in {"Cc", "Cf"}]
    for name in ("Seongnam", "KAIST", "Daejeon", "Gwangju", "Incheon"):
        assert name in body
    mentions = hostile_run["tables"]["mentions"].filter(pl.col("article_id") == article["article_id"])
    assert {"loc:seongnam", "org:kaist", "loc:daejeon", "loc:gwangju"} <= set(mentions["entity_id"])


def test_a_line_of_two_hundred_thousand_characters_is_processed_whole(hostile_run):
    article = _article(hostile_run, "long-line.txt")
    assert article["body"] == _long_line(200_000)
    paragraphs = hostile_run["tables"]["paragraphs"].filter(pl.col("article_id") == article["article_id"])
    assert paragraphs.select("start", "end").rows() == [(0, 200_000)]


def test_ids_and_urls_with_dot_segments_never_become_paths(hostile_run):
    work, current = hostile_run["work"], hostile_run["current"]
    articles = hostile_run["tables"]["articles"]
    dotted = articles.filter(pl.col("source_uri").str.contains("evil"))
    assert dotted.height == 2
    assert all(re.fullmatch(r"[0-9a-f]{16,64}", aid) for aid in dotted["article_id"])
    # Nothing was written outside the output folder, and no file name there comes from a document.
    outside = {p.name for p in work.iterdir()}
    assert outside == {"seeds", "sources.toml", "settings.toml", "output"}
    assert not list(work.rglob("*evil*"))
    names = re.compile(
        r"[0-9a-f]{64}|part-[\w.-]+\.parquet|fetch_state\.parquet|source_files\.parquet|manifest\.json|result\.json|http-cache\.jsonl"
        r"|\.run\.lock|[\w.-]+\.html"
    )
    for path in (work / "output").rglob("*"):
        if path.is_file() and "static" not in path.parts:  # Data Docs' own assets (fixed names from GE)
            assert names.fullmatch(path.name), path
    assert current.is_relative_to((work / "output").resolve())


def test_the_good_articles_are_exactly_what_a_run_without_hostile_files_publishes(hostile_run, seed_snapshot):
    seed_ids = {article_id(f"seeds:seeds/{p.name}") for p in SEEDS.glob("*.txt")}
    keep = pl.col("article_id").is_in(list(seed_ids))
    for name, table in PUBLISHED_TABLES.items():
        if not table.per_article or name == "translations":  # translations: another translator in that run
            continue
        columns = [c for c in table.names if c not in RUN_COLUMNS]
        ours = hostile_run["tables"][name].filter(keep).select(columns).sort(list(table.key))
        reference = pl.read_parquet(sorted((seed_snapshot / name).glob("*.parquet"))).filter(keep)
        assert_frame_equal(ours, reference.select(columns).sort(list(table.key)), check_row_order=True)
    assert set(hostile_run["tables"]["articles"].filter(keep)["article_id"]) == seed_ids


def test_the_translator_key_never_reaches_the_output_logs_or_artifacts(hostile_run):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    assert hostile_run["translator_requests"] > 0  # the key was used ...
    secret = KEY.encode()
    for path in (hostile_run["work"] / "output").rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    manifest = json.loads((hostile_run["current"] / "manifest.json").read_text(encoding="utf-8"))
    flow_run_id = manifest["flow_run_id"]
    with get_client(sync_client=True) as client:
        logs, page = [], 200
        while batch := client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=page, offset=len(logs)
        ):
            logs += batch
        # The sync client's read_artifacts sends nulls the API refuses; the route itself is simple enough.
        ours = client._client.post(  # noqa: SLF001
            "/artifacts/filter",
            json={"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": page, "offset": 0},
        ).json()
        run = client.read_flow_run(flow_run_id)
    assert logs  # ... the run's logs were recorded ...
    assert all(KEY not in log.message for log in logs)  # ... and none of them holds it
    assert ours
    assert all(KEY not in json.dumps(a, default=str) for a in ours)
    assert KEY not in json.dumps(run.parameters, default=str)


def test_a_second_run_over_the_same_hostile_files_publishes_nothing(hostile_run):
    from flows.nightly import nightly

    work = hostile_run["work"]
    # The 50 MB file is refused again (it is never stored), but an unchanged refusal is not news.
    again = nightly(sources_file=str(work / "sources.toml"), output_dir=str(work / "output"))
    assert again["published"] is False
    assert (work / "output" / "current").resolve() == hostile_run["current"]


def test_configuration_and_data_files_are_parsed_as_data_never_executed():
    root = Path(__file__).resolve().parents[1]
    # Python's eval/exec, unpickling and YAML's object constructors run code from the file they read.
    unsafe = re.compile(
        r"(?<![\w.])(?:eval|exec)\(|\bpickle\b|\bmarshal\.loads|\bshelve\b|yaml\.(?:load|unsafe_load|full_load)\("
        r"|yaml\.Loader|UnsafeLoader"
    )
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for folder in ("tasks", "flows")
        for path in sorted((root / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if unsafe.search(line)
    ]
    assert found == []
