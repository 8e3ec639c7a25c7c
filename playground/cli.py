"""``python -m playground``: JSON on stdout for scripting studies and for our own checks.

Errors exit non-zero with one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from playground import GRANULARITIES, RETRIEVERS, InvalidInput, Playground, PlaygroundError, RetrievalOptions, Settings
from playground.errors import NotFound
from playground.library.corpus import CorpusDoc, read_corpus
from playground.library.ingest import read_bytes
from playground.library.privacy_scan import counts, scan
from playground.research.attribution import METHODS, Doc, attribute, doc_vector
from playground.research.eval_stats import condition_table, paired_table
from playground.research.evaluation import METRICS, EvalResult, build_attributor, evaluate_profile
from playground.research.routes import PERSONAL_KEYS, collected, route_dicts
from playground.research.training_export import preference_pairs, split_counts, to_jsonl, user_training_set


def _out(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _retrieval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("user_id")
    p.add_argument("text")
    p.add_argument("--mode", choices=GRANULARITIES, default="user")
    p.add_argument("--persona", help="persona id for persona mode (default: the user's persona)")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--retriever", choices=RETRIEVERS, default="dense")
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--mmr", action="store_true")


def _corpus_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", type=Path, required=True, help="a JSONL file, one document per line")
    p.add_argument("--author-field", required=True)
    p.add_argument("--text-field", required=True)
    p.add_argument("--title-field")
    p.add_argument("--id-field")
    p.add_argument("--drop-where", action="append", default=[], metavar="FIELD=VALUE",
                   help="leave out rows where FIELD equals VALUE (repeatable)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m playground", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    users = sub.add_parser("users", help="profiles").add_subparsers(dest="action", required=True)
    add = users.add_parser("add")
    add.add_argument("name")
    add.add_argument("--persona")
    add.add_argument("--share", action="store_true", help="share samples with the persona group")
    users.add_parser("list")
    rm = users.add_parser("delete")
    rm.add_argument("user_id")
    users.add_parser("export", help="everything stored about one person").add_argument("user_id")
    personas = sub.add_parser("personas").add_subparsers(dest="action", required=True)
    personas.add_parser("list")
    samples = sub.add_parser("samples").add_subparsers(dest="action", required=True)
    sadd = samples.add_parser("add")
    sadd.add_argument("user_id")
    sadd.add_argument("files", nargs="+", type=Path)
    sadd.add_argument("--redact", action=argparse.BooleanOptionalAction, default=None,
                      help="replace personal data with [EMAIL], [PHONE]… before storing "
                           "(default: PLAYGROUND_REDACT_UPLOADS and the workshop preset)")
    slist = samples.add_parser("list")
    slist.add_argument("user_id")
    for name in ("retrieve", "prompt", "chat"):
        _retrieval_args(sub.add_parser(name))
        if name != "retrieve":
            sub.choices[name].add_argument(
                "--session", help="continue this conversation (its id is in a chat's trace): its history goes into "
                                  "the prompt exactly as in the app, filtered by granularity")
    ev = sub.add_parser("evaluate", help="LaMP-style held-out evaluation on a JSONL corpus (temporary users)")
    _corpus_args(ev)
    ev.add_argument("--per-author", type=int, default=3, help="documents per author (the last ones are held out)")
    ev.add_argument("--holdout", type=int, default=1, help="documents held out per author")
    ev.add_argument("--authors", type=int, default=0, help="at most this many authors (0: all)")
    ev.add_argument("--conditions", default="user,user+style,persona,global,none")
    ev.add_argument("--retriever", choices=RETRIEVERS, default="dense")
    ev.add_argument("--k", type=int, default=4)
    ev.add_argument("--max-tokens", type=int, default=None)
    ev.add_argument("--rows", action="store_true", help="include every item (prompt, output, reference)")
    at = sub.add_parser("attribution", help="authorship attribution on a JSONL corpus (held-out documents only)")
    _corpus_args(at)
    at.add_argument("--method", choices=METHODS, default="trained",
                    help="trained (the one to trust: k-fold linear SVM) or a leave-one-out teaching method")
    at.add_argument("--folds", type=int, default=5, help="k for the trained method's stratified k-fold")
    at.add_argument("--per-author", type=int, default=0, help="at most this many documents per author (0: all)")
    demo = sub.add_parser("demo", help="load the demo profiles (Federalist essays shipped with the playground)")
    demo.add_argument("--essays", type=int, default=3, help="essays per author")
    fr = sub.add_parser("fact-recall", help="do invented personal facts reach the answers? (user/persona/global)")
    fr.add_argument("--questions", type=int, default=0, help="questions per person (0: all)")
    fr.add_argument("--max-tokens", type=int, default=64, help="longest answer, in model tokens")
    fr.add_argument("--rows", action="store_true", help="include every answer")
    scan = sub.add_parser("scan", help="list the personal data in files (stores nothing)")
    scan.add_argument("files", nargs="+", type=Path)
    scan.add_argument("--name", action="append", default=[], help="a name known to be the writer's (repeatable)")
    et = sub.add_parser("export-training", help="a person's writing as instruction → output pairs (JSONL)")
    et.add_argument("user_id")
    et.add_argument("--holdout", type=float, default=0.2, help="share of samples held out as the test split")
    et.add_argument("--out", type=Path, help="write the JSONL here and print a summary (default: JSONL on stdout)")
    ep = sub.add_parser("export-preferences", help="a study's judgements as (prompt, chosen, rejected) pairs (JSONL)")
    ep.add_argument("--study", required=True, metavar="STUDY_ID")
    ep.add_argument("--out", type=Path, help="write the JSONL here and print a summary (default: JSONL on stdout)")
    rt = sub.add_parser("routes", help="the routes beyond prompting and what was collected for each")
    rt.add_argument("--user", metavar="USER_ID", help="also count what this profile has collected")
    ex = sub.add_parser("explain", help="what did each prompt part do? one answer per removed part (temperature 0)")
    _retrieval_args(ex)
    ex.add_argument("--summary", action="store_true", help="include the model-written summary (user mode)")
    bias = sub.add_parser("bias", help="the same questions for two synthetic profiles that differ in one attribute")
    bias.add_argument("--attribute", required=True, help="age_range, occupation, location or gender")
    bias.add_argument("--values", required=True, help='two values, comma-separated, e.g. "18-24,65+"')
    bias.add_argument("--questions", type=Path, help="a text file, one question per line (default: the shipped set)")
    bias.add_argument("--base", help="a profile id whose other attributes both synthetic profiles share")
    jd = sub.add_parser("judge", help="the personalized judge against a study's real choices")
    jd.add_argument("--study", required=True)
    jd.add_argument("--template", type=Path, help="a judge prompt template file (default: the shipped one)")
    jd.add_argument("--no-run", action="store_true", help="only report verdicts already stored")
    _study_args(sub.add_parser("study", help="studies as code: create from a TOML file, status, export, "
                                             "delete a participant"))
    sub.add_parser("status", help="what is reachable")
    doc = sub.add_parser("doctor", help="repair and check that SQLite and Chroma agree")
    doc.add_argument("--erasure", metavar="PERSON_ID_OR_TEXT",
                     help="report every place and every file in the data folder that still holds this person (a "
                          "profile or participant id) or this text; exits 1 when anything is found")
    doc.add_argument("--chroma-path", type=Path, metavar="DIR",
                     help="with a Chroma server: its data folder (`chroma run --path DIR`), to check its files too")
    return ap


def run(args: argparse.Namespace, pg: Playground) -> int:
    opts = lambda: RetrievalOptions(args.retriever, args.k or pg.settings.default_k, args.threshold, args.mmr)  # noqa
    if args.cmd == "users":
        if args.action == "add":
            _out(pg.people.create_profile(args.name, persona_id=args.persona, share_with_persona=args.share))
        elif args.action == "list":
            _out(pg.people.list_profiles())
        elif args.action == "export":
            _out(pg.people.export_profile(args.user_id))
        else:
            report = pg.people.delete_profile(args.user_id)
            _out({"deleted": args.user_id, **report})
    elif args.cmd == "personas":
        _out([{k: p[k] for k in ("id", "name", "grp", "description", "style_guidance", "builtin", "source",
                                 "n_members", "n_sharing")} for p in pg.people.list_personas()])
    elif args.cmd == "samples":
        if args.action == "list":
            _out(pg.library.list_samples(args.user_id))
            return 0
        pg.people.get_profile(args.user_id)
        results, failed = [], 0
        for f in args.files:
            try:
                s = pg.library.add_sample(args.user_id, filename=f.name, data=f.read_bytes(), redact=args.redact)
                results.append({"file": str(f), "sample_id": s["id"], "chunks": s["n_chunks"], "title": s["title"],
                                "redacted": s["redacted"]})
            except OSError as e:
                failed += 1
                results.append({"file": str(f), "error": f"{f} cannot be read: {e.strerror}."})
            except PlaygroundError as e:
                failed += 1
                results.append({"file": str(f), "error": str(e)})
        _out(results)
        return 1 if failed == len(args.files) else 0
    elif args.cmd == "retrieve":
        hits = pg.conversations.retrieve(args.user_id, args.text, args.mode, opts(), persona_id=args.persona)
        _out([{"text": h.text, "score": h.score, "rank": h.rank, "owner": h.owner_id, "owner_name": h.owner_name,
               "sample": h.sample_id, "sample_title": h.sample_title, "position": h.position,
               "retriever": h.retriever} for h in hits])
    elif args.cmd == "prompt":
        if args.session:
            _own_session(pg, args.user_id, args.session)
        _, build, _ = pg.conversations.preview(args.user_id, args.text, args.mode, opts(), persona_id=args.persona,
                                 session_id=args.session)
        _out({"parts": [{"source": p.source, "label": p.label, "text": p.text, "tokens": p.tokens}
                        for p in build.parts], "messages": build.messages, "tokens": build.tokens,
              "budget": build.budget, "cut": build.cut, "history_excluded": build.history_excluded})
    elif args.cmd == "chat":
        session = (_own_session(pg, args.user_id, args.session) if args.session
                   else pg.conversations.new_session(args.user_id, title="cli"))
        turn = pg.conversations.start_turn(session["id"], args.text, args.mode, opts(), persona_id=args.persona)
        try:
            for piece in turn.stream():
                sys.stdout.write(piece)
                sys.stdout.flush()
        finally:
            sys.stdout.write("\n")
            sys.stderr.write(json.dumps(turn.trace, default=str) + "\n")
    elif args.cmd == "evaluate":
        _out(run_evaluation(args, pg))
    elif args.cmd == "attribution":
        _out(run_attribution(args, pg))
    elif args.cmd == "demo":
        from playground.demo import load_demo_data

        _out([{k: p[k] for k in ("id", "display_name", "occupation", "location", "interests", "preferred_tone")}
              | {"samples": [s["title"] for s in pg.library.list_samples(p["id"])]}
              for p in load_demo_data(pg, essays_per_author=args.essays)])
    elif args.cmd == "fact-recall":
        from playground.research.fact_recall import fact_recall

        result = fact_recall(pg, questions_per_person=args.questions, max_tokens=args.max_tokens,
                             progress=lambda done, total: sys.stderr.write(f"\r{done}/{total} answers"))
        sys.stderr.write("\n")
        if not args.rows:
            result.pop("rows")
        _out(result)
    elif args.cmd == "export-training":
        records = user_training_set(pg.db, args.user_id, args.holdout)
        _export(records, args.out, {"user_id": args.user_id, "records": len(records),
                                    **split_counts(records)})
    elif args.cmd == "export-preferences":
        pairs, summary = preference_pairs(pg.db, args.study)
        _export(pairs, args.out, summary)
    elif args.cmd == "routes":
        if args.user:
            pg.people.get_profile(args.user)
        overall, mine = collected(pg.db), collected(pg.db, args.user) if args.user else None
        _out([{**r, "collected": {k: {"everyone": overall[k], **({"user": mine[k]} if mine and k in PERSONAL_KEYS else {})}
                                  for k in r["collects"]}} for r in route_dicts()])
    elif args.cmd == "explain":
        _out(run_explain(args, pg, opts()))
    elif args.cmd == "bias":
        _out(run_bias(args, pg))
    elif args.cmd == "judge":
        _out(run_judge(args, pg))
    elif args.cmd == "study":
        _out(run_study(args, pg))
    elif args.cmd == "status":
        _out(pg.status())
    elif args.cmd == "doctor" and args.erasure:
        from playground.stores.personal_data import erasure_report

        report = erasure_report(pg.db, pg.vectors, pg.settings.data_dir, args.erasure,
                                server_path=args.chroma_path if pg.settings.chroma_host else None)
        _out(report)
        if not report.get("chroma_server", {}).get("files_checked", True):
            sys.stderr.write(f"note: {report['chroma_server']['note']}.\n")
        if report["found"]:
            sys.stderr.write(f"error: {args.erasure!r} is still held in {len(report['places'])} place(s) and "
                             f"{len(report['files'])} file(s) of {pg.settings.data_dir}.\n")
            return 1
    elif args.cmd == "doctor":
        at_start = pg.repair_report  # what start-up repair (which ran when this command opened the stores) did
        again = pg.library.repair()
        _out({"at_start": at_start, "repaired": again, "notes": at_start.get("notes", []) + again.get("notes", []),
              "problems": pg.library.check_consistency()})
    return 0


def _export(records: list[dict[str, Any]], out: Path | None, summary: dict[str, Any]) -> None:
    text = to_jsonl(records)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"{out} cannot be written: {e.strerror}.", "Choose another file.") from e
    _out({"file": str(out), **summary})


def run_scan(files: Sequence[Path], names: Sequence[str], settings: Settings) -> tuple[list[dict[str, Any]], int]:
    """Findings per file (type, start, end, text; positions in the text as the playground reads it, after
    cleaning), and how many files could not be read. Needs no stores and no models."""
    out, failed = [], 0
    for f in files:
        try:
            read = read_bytes(f.read_bytes(), f.name, settings.max_upload_bytes)
        except OSError as e:
            failed += 1
            out.append({"file": str(f), "error": f"{f} cannot be read: {e.strerror}."})
            continue
        except PlaygroundError as e:
            failed += 1
            out.append({"file": str(f), "error": str(e)})
            continue
        findings = scan(read.text, names)
        out.append({"file": str(f), "chars": len(read.text), "counts": counts(findings),
                    "findings": [x.to_dict() for x in findings]})
    return out, failed


def _own_session(pg: Playground, user_id: str, session_id: str) -> dict[str, Any]:
    """The conversation ``session_id``, which must belong to ``user_id``."""
    pg.people.get_profile(user_id)
    session = pg.db.one("SELECT * FROM sessions WHERE id = ?", (session_id,))
    if not session:
        raise NotFound(f"There is no conversation '{session_id}'.", "Leave out --session to start a new one.")
    if session["profile_id"] != user_id:
        raise InvalidInput(f"The conversation '{session_id}' belongs to another profile.",
                           "Continue it with the profile that started it, or leave out --session.")
    return session


def _by_author(docs: list[CorpusDoc], per_author: int, authors: int = 0) -> dict[str, list[CorpusDoc]]:
    grouped: dict[str, list[CorpusDoc]] = {}
    for d in docs:
        grouped.setdefault(d.author, []).append(d)
    if per_author:
        grouped = {a: ds[:per_author] for a, ds in grouped.items()}
    names = sorted(grouped, key=lambda a: -len(grouped[a]))
    return {a: grouped[a] for a in (names[:authors] if authors else names)}


def run_attribution(args: argparse.Namespace, pg: Playground) -> dict[str, Any]:
    docs = read_corpus(args.corpus, args.author_field, args.text_field, args.title_field, args.drop_where, args.id_field)
    grouped = _by_author(docs, args.per_author)
    items = [Doc(a, d.doc_id, d.text) for a, ds in grouped.items() for d in ds]
    if args.method in ("dense", "hybrid"):
        for item in items:
            item.vector = doc_vector(pg.embedder.embed(pg.chunker.split(item.text), pg.settings.embed_batch_size))
    t0 = time.perf_counter()
    result = attribute(items, args.method, folds=args.folds).to_dict()
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result.pop("predictions")
    return result


@contextlib.contextmanager
def _stopped_cleanly() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the run like Ctrl-C does, so the throw-away folder (copies of the corpus) is removed
    on the way out; after SIGKILL the next start removes it (stores.scratch)."""
    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_evaluation(args: argparse.Namespace, pg: Playground) -> dict[str, Any]:
    """Temporary users from a corpus, in a throw-away data folder; metrics per condition."""
    docs = read_corpus(args.corpus, args.author_field, args.text_field, args.title_field, args.drop_where, args.id_field)
    grouped = {a: ds for a, ds in _by_author(docs, args.per_author, args.authors).items()
               if len(ds) >= args.holdout + 1}
    if not grouped:
        raise InvalidInput(f"Evaluation needs at least {args.holdout + 1} documents per author.",
                           "Raise --per-author or lower --holdout.")
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    with _stopped_cleanly(), pg.scratch("playground-eval-") as temp:
        group = temp.create_persona_with_examples("Corpus authors", f"People who wrote the documents in {args.corpus.name}.")
        results = []
        for author, ds in grouped.items():
            user = temp.people.create_profile(author[:80], persona_id=group["id"], share_with_persona=True)
            for d in ds:
                temp.library.add_sample(user["id"], text=d.text, title=d.title or d.doc_id)
        users = temp.people.list_profiles()
        held = [s["id"] for u in users for s in temp.library.list_samples(u["id"])[-args.holdout:]]
        # One attribution model for all: fitted on every author's writing except the held-out documents.
        attributor = build_attributor(temp, users, held)
        for user in users:
            results.append(evaluate_profile(temp, user["id"], holdout=args.holdout, conditions=conditions,
                                            retriever=args.retriever, k=args.k, max_tokens=args.max_tokens,
                                            attributor=attributor))
    rows = [r for res in results for r in res.rows]
    combined = EvalResult("corpus", [], conditions, args.retriever, results[0].model, rows)
    out: dict[str, Any] = {"corpus": str(args.corpus), "authors": len(grouped), "per_author": args.per_author,
                           "held_out_per_author": args.holdout, "retriever": args.retriever,
                           "model": results[0].model, "backend": pg.models.name,
                           "metric_notes": "METEOR uses exact and stem matches only (no WordNet download). "
                                           "Intervals: 95% percentile bootstrap over held-out items (2,000 resamples). "
                                           "attributed: share of outputs the trained attribution method (fitted on "
                                           f"all {len(grouped)} authors' non-held-out documents) gives to the person; "
                                           "style_distance: distance of the output's style habits from the person's "
                                           "(reference sd units, lower is closer).",
                           "conditions": combined.summary(),
                           "conditions_ci95": condition_table(rows, conditions, METRICS)}
    for a, b in (("user", "global"), ("user", "none"), ("persona", "global"), ("user+style", "user"),
                 ("user+style", "global")):
        if a in conditions and b in conditions:
            out.setdefault("paired", {})[f"{a} - {b}"] = paired_table(rows, a, b, METRICS)
    if args.rows:
        out["rows"] = [dataclasses.asdict(r) for r in rows]
    return out


def _progress(stage: str, done: int, total: int) -> None:
    sys.stderr.write(f"[{done + 1 if done < total else total}/{total}] {stage}\n")
    sys.stderr.flush()


def run_explain(args: argparse.Namespace, pg: Playground, options: RetrievalOptions) -> dict[str, Any]:
    from playground.research.probes import counterfactual

    rid = pg.start_explanation(args.user_id, args.text, args.mode, options, persona_id=args.persona,
                               use_summary=args.summary)
    return counterfactual.to_json(pg.run_explanation(rid, progress=_progress))


def run_bias(args: argparse.Namespace, pg: Playground) -> dict[str, Any]:
    from playground.research.probes import bias

    values = [v.strip() for v in args.values.split(",")]
    questions = bias.read_questions(args.questions) if args.questions else bias.default_questions()
    base = pg.people.get_profile(args.base) if args.base else None
    return bias.run_probe(args.attribute, values, questions, backend=pg.models, model=pg.models.default_model(),
                          embed=pg.embedder.embed, count_tokens=pg.tokenizer.count,
                          budget=pg.settings.prompt_budget, max_tokens=pg.settings.max_tokens, base=base,
                          progress=_progress).to_dict()


def run_judge(args: argparse.Namespace, pg: Playground) -> dict[str, Any]:
    from playground.research.probes import judge

    template = judge.check_template(args.template.read_text()) if args.template else judge.DEFAULT_TEMPLATE
    if not args.no_run:
        judge.judge_study(pg, args.study, template, progress=_progress)
    return judge.agreement_report(pg, args.study, template)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.cmd == "scan":  # no stores or models needed
            results, failed = run_scan(args.files, args.name, Settings.from_env())
            _out(results)
            return 1 if failed == len(args.files) else 0
        return run(args, Playground(Settings.from_env()))
    except PlaygroundError as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


def _study_args(p: argparse.ArgumentParser) -> None:
    act = p.add_subparsers(dest="action", required=True)
    act.add_parser("create", help="create a study from a TOML file (docs/study-data.md)").add_argument(
        "--config", type=Path, required=True)
    act.add_parser("status", help="participants and progress (one study, or all)").add_argument("--study")
    ex = act.add_parser("export", help="judgements.csv, events.jsonl and codebook.json into a folder")
    ex.add_argument("--study", required=True)
    ex.add_argument("--out", type=Path, required=True)
    dp = act.add_parser("delete-participant", help="remove one participant's data everywhere")
    dp.add_argument("--study", required=True)
    dp.add_argument("--participant", required=True, help="the participant ID as in the export, or its internal id")
    act.add_parser("close", help="no new participants; unfreeze its persona").add_argument("--study")


def _find_study(pg: Playground, ref: str) -> dict[str, Any]:
    from playground.research import study as studies

    try:
        return studies.get_study(pg, ref)
    except NotFound:
        return studies.study_by_code(pg, ref)


def run_study(args: argparse.Namespace, pg: Playground) -> Any:
    import tomllib

    from playground.research import participant_ids
    from playground.research import study as studies

    if args.action == "create":
        try:
            cfg = tomllib.loads(args.config.read_text(encoding="utf-8"))
        except OSError as e:
            raise InvalidInput(f"{args.config} cannot be read: {e.strerror}.") from None
        except tomllib.TOMLDecodeError as e:
            raise InvalidInput(f"{args.config} is not valid TOML: {e}.") from None
        known = {"name", "consent", "conditions", "prompts", "assignment", "blind", "questions", "persona",
                 "online", "invites"}
        if set(cfg) - known:
            raise InvalidInput(f"Unknown key(s) in {args.config}: {', '.join(sorted(set(cfg) - known))}.")
        s = studies.create_study(pg, cfg.get("name", ""), cfg.get("consent", ""), cfg.get("conditions", []),
                                 cfg.get("prompts", []), assignment=cfg.get("assignment", "within"),
                                 blind=cfg.get("blind", True),
                                 questions=cfg.get("questions", list(studies.DEFAULT_QUESTIONS)),
                                 persona_id=cfg.get("persona", ""), settings=cfg.get("online", {}))
        codes = studies.invite(pg, s["id"], cfg.get("invites", [])) if cfg.get("invites") else []
        return {"id": s["id"], "code": s["code"], "name": s["name"], "conditions": s["conditions"],
                "questions": s["questions"], "settings": s["settings"], "access_codes": codes}
    if args.action == "status":
        chosen = [_find_study(pg, args.study)] if args.study else studies.list_studies(pg)
        out = []
        for s in chosen:
            prog = studies.progress(pg, s["id"])
            out.append({"id": s["id"], "code": s["code"], "name": s["name"], "open": s["open"],
                        "participants": len(prog), "judgements": sum(p["done"] for p in prog),
                        "finished": sum(1 for p in prog if p["finished"]),
                        "progress": [{"participant": p["code"], "consented": bool(p["consented"]), "done": p["done"],
                                      "of": p["tasks"], "attention_passed": p["attention_passed"],
                                      "finished": bool(p["finished"])} for p in prog]})
        return out[0] if args.study else out
    if args.action == "export":
        s = _find_study(pg, args.study)
        args.out.mkdir(parents=True, exist_ok=True)
        files = {"judgements.csv": studies.export_csv(pg, s["id"]), "events.jsonl": studies.export_jsonl(pg, s["id"]),
                 "codebook.json": json.dumps(studies.codebook(s), indent=2, ensure_ascii=False) + "\n"}
        for name, text in files.items():
            (args.out / name).write_text(text, encoding="utf-8")
        return {"study": s["id"], "folder": str(args.out), "files": sorted(files),
                "judgements": max(0, len(files["judgements.csv"].splitlines()) - 1)}
    if args.action == "close":
        s = _find_study(pg, args.study)
        studies.close_study(pg, s["id"])
        return {"study": s["id"], "open": False}
    s = _find_study(pg, args.study)
    row = pg.db.one("SELECT id FROM participants WHERE study_id = ? AND (id = ? OR code_key = ?)",
                    (s["id"], args.participant, participant_ids.key(args.participant)))
    if not row:
        raise NotFound(f"Study {s['code']} has no participant “{args.participant}”.")
    studies.delete_participant(pg, row["id"])
    return {"study": s["id"], "deleted": row["id"]}
