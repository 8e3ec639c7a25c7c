"""``python -m playground``: JSON on stdout for scripting studies and for our own checks.

Errors exit non-zero with one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from playground import GRANULARITIES, RETRIEVERS, Playground, PlaygroundError, RetrievalOptions, Settings
from playground.library.corpus import CorpusDoc, read_corpus
from playground.library.privacy_scan import scan_files
from playground.research.attribution import METHODS
from playground.research.routes import routes_with_counts
from playground.research.training_export import preference_pairs, split_counts, to_jsonl, user_training_set, write_jsonl

# A subcommand: runs on an open playground with the parsed arguments and returns the exit code.
Command = Callable[[Playground, argparse.Namespace], int]


def _out(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _progress(stage: str, done: int, total: int) -> None:
    sys.stderr.write(f"[{done + 1 if done < total else total}/{total}] {stage}\n")
    sys.stderr.flush()


def _count_answers(done: int, total: int) -> None:
    sys.stderr.write(f"\r{done}/{total} answers")


def _options(pg: Playground, args: argparse.Namespace) -> RetrievalOptions:
    return RetrievalOptions(args.retriever, args.k or pg.settings.default_k, args.threshold, args.mmr)


def _read_corpus(args: argparse.Namespace) -> list[CorpusDoc]:
    return read_corpus(args.corpus, args.author_field, args.text_field, args.title_field, args.drop_where,
                       args.id_field)


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


def _export(records: list[dict[str, Any]], out: Path | None, summary: dict[str, Any]) -> None:
    if out is None:
        sys.stdout.write(to_jsonl(records))
        return
    write_jsonl(records, out)
    _out({"file": str(out), **summary})


# -- the subcommands -------------------------------------------------------------------------------------------------
def cmd_users_add(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.people.create_profile(args.name, persona_id=args.persona, share_with_persona=args.share))
    return 0


def cmd_users_list(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.people.list_profiles())
    return 0


def cmd_users_export(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.people.export_profile(args.user_id))
    return 0


def cmd_users_delete(pg: Playground, args: argparse.Namespace) -> int:
    report = pg.people.delete_profile(args.user_id)
    _out({"deleted": args.user_id, **report})
    return 0


def cmd_personas_list(pg: Playground, args: argparse.Namespace) -> int:
    _out([{k: p[k] for k in ("id", "name", "grp", "description", "style_guidance", "builtin", "source",
                             "n_members", "n_sharing")} for p in pg.people.list_personas()])
    return 0


def cmd_samples_list(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.library.list_samples(args.user_id))
    return 0


def cmd_samples_add(pg: Playground, args: argparse.Namespace) -> int:
    pg.people.get_profile(args.user_id)
    results: list[dict[str, Any]] = []
    failed = 0
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


def cmd_retrieve(pg: Playground, args: argparse.Namespace) -> int:
    hits = pg.conversations.retrieve(args.user_id, args.text, args.mode, _options(pg, args), persona_id=args.persona)
    _out([{"text": h.text, "score": h.score, "rank": h.rank, "owner": h.owner_id, "owner_name": h.owner_name,
           "sample": h.sample_id, "sample_title": h.sample_title, "position": h.position,
           "retriever": h.retriever} for h in hits])
    return 0


def cmd_prompt(pg: Playground, args: argparse.Namespace) -> int:
    if args.session:
        pg.conversations.owned_session(args.user_id, args.session)
    _, build, _ = pg.conversations.preview(args.user_id, args.text, args.mode, _options(pg, args),
                                           persona_id=args.persona, session_id=args.session)
    _out({"parts": [{"source": p.source, "label": p.label, "text": p.text, "tokens": p.tokens}
                    for p in build.parts], "messages": build.messages, "tokens": build.tokens,
          "budget": build.budget, "cut": build.cut, "history_excluded": build.history_excluded})
    return 0


def cmd_chat(pg: Playground, args: argparse.Namespace) -> int:
    session = (pg.conversations.owned_session(args.user_id, args.session) if args.session
               else pg.conversations.new_session(args.user_id, title="cli"))
    turn = pg.conversations.start_turn(session["id"], args.text, args.mode, _options(pg, args),
                                       persona_id=args.persona)
    try:
        for piece in turn.stream():
            sys.stdout.write(piece)
            sys.stdout.flush()
    finally:
        sys.stdout.write("\n")
        sys.stderr.write(json.dumps(turn.trace, default=str) + "\n")
    return 0


def cmd_evaluate(pg: Playground, args: argparse.Namespace) -> int:
    docs = _read_corpus(args)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    with _stopped_cleanly():
        result = pg.evaluation.evaluate_corpus(args.corpus, docs, per_author=args.per_author, holdout=args.holdout,
                                               authors=args.authors, conditions=conditions, retriever=args.retriever,
                                               k=args.k, max_tokens=args.max_tokens, rows=args.rows)
    _out(result)
    return 0


def cmd_attribution(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.attribution.attribute_corpus(_read_corpus(args), args.method, folds=args.folds, per_author=args.per_author))
    return 0


def cmd_demo(pg: Playground, args: argparse.Namespace) -> int:
    _out([{k: p[k] for k in ("id", "display_name", "occupation", "location", "interests", "preferred_tone")}
          | {"samples": [s["title"] for s in pg.library.list_samples(p["id"])]}
          for p in pg.demo.load(essays_per_author=args.essays)])
    return 0


def cmd_fact_recall(pg: Playground, args: argparse.Namespace) -> int:
    result = pg.fact_recall.run(questions_per_person=args.questions, max_tokens=args.max_tokens,
                                progress=_count_answers)
    sys.stderr.write("\n")
    if not args.rows:
        result.pop("rows")
    _out(result)
    return 0


def cmd_scan(settings: Settings, args: argparse.Namespace) -> int:
    results, failed = scan_files(args.files, args.name, settings.max_upload_bytes)
    _out(results)
    return 1 if failed == len(args.files) else 0


def cmd_export_training(pg: Playground, args: argparse.Namespace) -> int:
    records = user_training_set(pg.db, args.user_id, args.holdout)
    _export(records, args.out, {"user_id": args.user_id, "records": len(records), **split_counts(records)})
    return 0


def cmd_export_preferences(pg: Playground, args: argparse.Namespace) -> int:
    pairs, summary = preference_pairs(pg.db, args.study)
    _export(pairs, args.out, summary)
    return 0


def cmd_routes(pg: Playground, args: argparse.Namespace) -> int:
    if args.user:
        pg.people.get_profile(args.user)
    _out(routes_with_counts(pg.db, args.user))
    return 0


def cmd_explain(pg: Playground, args: argparse.Namespace) -> int:
    from playground.research.probes import counterfactual

    rid = pg.start_explanation(args.user_id, args.text, args.mode, _options(pg, args), persona_id=args.persona,
                               use_summary=args.summary)
    _out(counterfactual.to_json(pg.run_explanation(rid, progress=_progress)))
    return 0


def cmd_bias(pg: Playground, args: argparse.Namespace) -> int:
    from playground.research.probes import bias

    values = [v.strip() for v in args.values.split(",")]
    questions = bias.read_questions(args.questions) if args.questions else bias.default_questions()
    base = pg.people.get_profile(args.base) if args.base else None
    model = pg.models.default_model()
    _out(bias.run_probe(args.attribute, values, questions, backend=pg.models, model=model,
                        embed=pg.embedder.embed, count_tokens=pg.tokenizer.count,
                        budget=pg.settings.prompt_budget, max_tokens=pg.settings.max_tokens, base=base,
                        progress=_progress, template=pg.conversations.template_for(model)).to_dict())
    return 0


def cmd_judge(pg: Playground, args: argparse.Namespace) -> int:
    from playground.research.probes import judge

    template = judge.check_template(args.template.read_text()) if args.template else judge.DEFAULT_TEMPLATE
    if not args.no_run:
        pg.judge.judge_study(args.study, template, progress=_progress)
    _out(pg.judge.agreement_report(args.study, template))
    return 0


def cmd_study_create(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.studies.create_from_config(args.config))
    return 0


def cmd_study_status(pg: Playground, args: argparse.Namespace) -> int:
    if args.study:
        _out(pg.studies.status_report(pg.studies.find_study(args.study)))
    else:
        _out([pg.studies.status_report(s) for s in pg.studies.list_studies()])
    return 0


def cmd_study_export(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.studies.export_folder(pg.studies.find_study(args.study), args.out))
    return 0


def cmd_study_close(pg: Playground, args: argparse.Namespace) -> int:
    s = pg.studies.find_study(args.study)
    pg.studies.close_study(s["id"])
    _out({"study": s["id"], "open": False})
    return 0


def cmd_study_delete_participant(pg: Playground, args: argparse.Namespace) -> int:
    s = pg.studies.find_study(args.study)
    participant = pg.studies.find_participant(s, args.participant)
    pg.studies.delete_participant(participant)
    _out({"study": s["id"], "deleted": participant})
    return 0


def cmd_status(pg: Playground, args: argparse.Namespace) -> int:
    _out(pg.status())
    return 0


def cmd_doctor(pg: Playground, args: argparse.Namespace) -> int:
    if args.erasure:
        return _erasure(pg, args)
    at_start = pg.repair_report  # what start-up repair (which ran when this command opened the stores) did
    again = pg.library.repair()
    _out({"at_start": at_start, "repaired": again, "notes": at_start.get("notes", []) + again.get("notes", []),
          "problems": pg.library.check_consistency()})
    return 0


def _erasure(pg: Playground, args: argparse.Namespace) -> int:
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
    return 0


# -- the parser ------------------------------------------------------------------------------------------------------
def _runs(p: argparse.ArgumentParser, command: Command) -> argparse.ArgumentParser:
    """``p`` runs ``command`` on the playground (every subcommand but scan opens the stores)."""
    p.set_defaults(func=command, opens_stores=True)
    return p


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
    add = _runs(users.add_parser("add"), cmd_users_add)
    add.add_argument("name")
    add.add_argument("--persona")
    add.add_argument("--share", action="store_true", help="share samples with the persona group")
    _runs(users.add_parser("list"), cmd_users_list)
    rm = _runs(users.add_parser("delete"), cmd_users_delete)
    rm.add_argument("user_id")
    _runs(users.add_parser("export", help="everything stored about one person"), cmd_users_export).add_argument(
        "user_id")
    personas = sub.add_parser("personas").add_subparsers(dest="action", required=True)
    _runs(personas.add_parser("list"), cmd_personas_list)
    samples = sub.add_parser("samples").add_subparsers(dest="action", required=True)
    sadd = _runs(samples.add_parser("add"), cmd_samples_add)
    sadd.add_argument("user_id")
    sadd.add_argument("files", nargs="+", type=Path)
    sadd.add_argument("--redact", action=argparse.BooleanOptionalAction, default=None,
                      help="replace personal data with [EMAIL], [PHONE]… before storing "
                           "(default: PLAYGROUND_REDACT_UPLOADS and the workshop preset)")
    slist = _runs(samples.add_parser("list"), cmd_samples_list)
    slist.add_argument("user_id")
    for name, command in (("retrieve", cmd_retrieve), ("prompt", cmd_prompt), ("chat", cmd_chat)):
        p = _runs(sub.add_parser(name), command)
        _retrieval_args(p)
        if name != "retrieve":
            p.add_argument(
                "--session", help="continue this conversation (its id is in a chat's trace): its history goes into "
                                  "the prompt exactly as in the app, filtered by granularity")
    ev = _runs(sub.add_parser("evaluate", help="LaMP-style held-out evaluation on a JSONL corpus (temporary users)"),
               cmd_evaluate)
    _corpus_args(ev)
    ev.add_argument("--per-author", type=int, default=3, help="documents per author (the last ones are held out)")
    ev.add_argument("--holdout", type=int, default=1, help="documents held out per author")
    ev.add_argument("--authors", type=int, default=0, help="at most this many authors (0: all)")
    ev.add_argument("--conditions", default="user,user+style,persona,global,none")
    ev.add_argument("--retriever", choices=RETRIEVERS, default="dense")
    ev.add_argument("--k", type=int, default=4)
    ev.add_argument("--max-tokens", type=int, default=None)
    ev.add_argument("--rows", action="store_true", help="include every item (prompt, output, reference)")
    at = _runs(sub.add_parser("attribution", help="authorship attribution on a JSONL corpus (held-out documents only)"),
               cmd_attribution)
    _corpus_args(at)
    at.add_argument("--method", choices=METHODS, default="trained",
                    help="trained (the one to trust: k-fold linear SVM) or a leave-one-out teaching method")
    at.add_argument("--folds", type=int, default=5, help="k for the trained method's stratified k-fold")
    at.add_argument("--per-author", type=int, default=0, help="at most this many documents per author (0: all)")
    demo = _runs(sub.add_parser("demo", help="load the demo profiles (Federalist essays shipped with the playground)"),
                 cmd_demo)
    demo.add_argument("--essays", type=int, default=3, help="essays per author")
    fr = _runs(sub.add_parser("fact-recall", help="do invented personal facts reach the answers? (user/persona/global)"),
               cmd_fact_recall)
    fr.add_argument("--questions", type=int, default=0, help="questions per person (0: all)")
    fr.add_argument("--max-tokens", type=int, default=64, help="longest answer, in model tokens")
    fr.add_argument("--rows", action="store_true", help="include every answer")
    scan = sub.add_parser("scan", help="list the personal data in files (stores nothing)")
    scan.set_defaults(func=cmd_scan, opens_stores=False)  # reads the files only: no stores or models needed
    scan.add_argument("files", nargs="+", type=Path)
    scan.add_argument("--name", action="append", default=[], help="a name known to be the writer's (repeatable)")
    et = _runs(sub.add_parser("export-training", help="a person's writing as instruction → output pairs (JSONL)"),
               cmd_export_training)
    et.add_argument("user_id")
    et.add_argument("--holdout", type=float, default=0.2, help="share of samples held out as the test split")
    et.add_argument("--out", type=Path, help="write the JSONL here and print a summary (default: JSONL on stdout)")
    ep = _runs(sub.add_parser("export-preferences", help="a study's judgements as (prompt, chosen, rejected) pairs "
                                                         "(JSONL)"), cmd_export_preferences)
    ep.add_argument("--study", required=True, metavar="STUDY_ID")
    ep.add_argument("--out", type=Path, help="write the JSONL here and print a summary (default: JSONL on stdout)")
    rt = _runs(sub.add_parser("routes", help="the routes beyond prompting and what was collected for each"), cmd_routes)
    rt.add_argument("--user", metavar="USER_ID", help="also count what this profile has collected")
    ex = _runs(sub.add_parser("explain", help="what did each prompt part do? one answer per removed part "
                                              "(temperature 0)"), cmd_explain)
    _retrieval_args(ex)
    ex.add_argument("--summary", action="store_true", help="include the model-written summary (user mode)")
    bias = _runs(sub.add_parser("bias", help="the same questions for two synthetic profiles that differ in one "
                                             "attribute"), cmd_bias)
    bias.add_argument("--attribute", required=True, help="age_range, occupation, location or gender")
    bias.add_argument("--values", required=True, help='two values, comma-separated, e.g. "18-24,65+"')
    bias.add_argument("--questions", type=Path, help="a text file, one question per line (default: the shipped set)")
    bias.add_argument("--base", help="a profile id whose other attributes both synthetic profiles share")
    jd = _runs(sub.add_parser("judge", help="the personalized judge against a study's real choices"), cmd_judge)
    jd.add_argument("--study", required=True)
    jd.add_argument("--template", type=Path, help="a judge prompt template file (default: the shipped one)")
    jd.add_argument("--no-run", action="store_true", help="only report verdicts already stored")
    _study_args(sub.add_parser("study", help="studies as code: create from a TOML file, status, export, "
                                             "delete a participant"))
    _runs(sub.add_parser("status", help="what is reachable"), cmd_status)
    doc = _runs(sub.add_parser("doctor", help="repair and check that SQLite and Chroma agree"), cmd_doctor)
    doc.add_argument("--erasure", metavar="PERSON_ID_OR_TEXT",
                     help="report every place and every file in the data folder that still holds this person (a "
                          "profile or participant id) or this text; exits 1 when anything is found")
    doc.add_argument("--chroma-path", type=Path, metavar="DIR",
                     help="with a Chroma server: its data folder (`chroma run --path DIR`), to check its files too")
    return ap


def _study_args(p: argparse.ArgumentParser) -> None:
    act = p.add_subparsers(dest="action", required=True)
    _runs(act.add_parser("create", help="create a study from a TOML file (docs/study-data.md)"),
          cmd_study_create).add_argument("--config", type=Path, required=True)
    _runs(act.add_parser("status", help="participants and progress (one study, or all)"),
          cmd_study_status).add_argument("--study")
    ex = _runs(act.add_parser("export", help="judgements.csv, events.jsonl and codebook.json into a folder"),
               cmd_study_export)
    ex.add_argument("--study", required=True)
    ex.add_argument("--out", type=Path, required=True)
    dp = _runs(act.add_parser("delete-participant", help="remove one participant's data everywhere"),
               cmd_study_delete_participant)
    dp.add_argument("--study", required=True)
    dp.add_argument("--participant", required=True, help="the participant ID as in the export, or its internal id")
    _runs(act.add_parser("close", help="no new participants; unfreeze its persona"), cmd_study_close).add_argument(
        "--study")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if not args.opens_stores:
            return int(args.func(settings, args))
        return int(args.func(Playground(settings), args))
    except PlaygroundError as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    except OSError as e:  # a file named on the command line: missing, unreadable, a folder, a full disk
        where = f" {e.filename}" if e.filename else ""
        sys.stderr.write(f"error: cannot use{where}: {e.strerror or e}. Check the path, its permissions and the free "
                         "space on its disk.\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
