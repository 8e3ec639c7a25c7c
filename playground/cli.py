"""``python -m playground``: JSON on stdout for scripting studies and for our own checks.

Errors exit non-zero with one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from . import MODES, RETRIEVERS, Playground, PlaygroundError, RetrievalOptions, Settings


def _out(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _retrieval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("user_id")
    p.add_argument("text")
    p.add_argument("--mode", choices=MODES, default="user")
    p.add_argument("--persona", help="persona id for persona mode (default: the user's persona)")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--retriever", choices=RETRIEVERS, default="dense")
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--mmr", action="store_true")


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
    personas = sub.add_parser("personas").add_subparsers(dest="action", required=True)
    personas.add_parser("list")
    samples = sub.add_parser("samples").add_subparsers(dest="action", required=True)
    sadd = samples.add_parser("add")
    sadd.add_argument("user_id")
    sadd.add_argument("files", nargs="+", type=Path)
    slist = samples.add_parser("list")
    slist.add_argument("user_id")
    for name in ("retrieve", "prompt", "chat"):
        _retrieval_args(sub.add_parser(name))
    sub.add_parser("status", help="what is reachable")
    sub.add_parser("doctor", help="repair and check that SQLite and Chroma agree")
    return ap


def run(args: argparse.Namespace, pg: Playground) -> int:
    opts = lambda: RetrievalOptions(args.retriever, args.k or pg.settings.default_k, args.threshold, args.mmr)  # noqa
    if args.cmd == "users":
        if args.action == "add":
            _out(pg.create_profile(args.name, persona_id=args.persona, share_with_persona=args.share))
        elif args.action == "list":
            _out(pg.list_profiles())
        else:
            pg.delete_profile(args.user_id)
            _out({"deleted": args.user_id})
    elif args.cmd == "personas":
        _out([{k: p[k] for k in ("id", "name", "grp", "description", "style_guidance", "builtin", "source",
                                 "n_members", "n_sharing")} for p in pg.list_personas()])
    elif args.cmd == "samples":
        if args.action == "list":
            _out(pg.list_samples(args.user_id))
            return 0
        pg.get_profile(args.user_id)
        results, failed = [], 0
        for f in args.files:
            try:
                s = pg.add_sample(args.user_id, filename=f.name, data=f.read_bytes())
                results.append({"file": str(f), "sample_id": s["id"], "chunks": s["n_chunks"], "title": s["title"]})
            except OSError as e:
                failed += 1
                results.append({"file": str(f), "error": f"{f} cannot be read: {e.strerror}."})
            except PlaygroundError as e:
                failed += 1
                results.append({"file": str(f), "error": str(e)})
        _out(results)
        return 1 if failed == len(args.files) else 0
    elif args.cmd == "retrieve":
        hits = pg.retrieve(args.user_id, args.text, args.mode, opts(), persona_id=args.persona)
        _out([{"text": h.text, "score": h.score, "rank": h.rank, "owner": h.owner_id, "owner_name": h.owner_name,
               "sample": h.sample_id, "sample_title": h.sample_title, "position": h.position,
               "retriever": h.retriever} for h in hits])
    elif args.cmd == "prompt":
        _, build, _ = pg.preview(args.user_id, args.text, args.mode, opts(), persona_id=args.persona)
        _out({"parts": [{"source": p.source, "label": p.label, "text": p.text, "tokens": p.tokens}
                        for p in build.parts], "messages": build.messages, "tokens": build.tokens,
              "budget": build.budget, "cut": build.cut})
    elif args.cmd == "chat":
        session = pg.new_session(args.user_id, title="cli")
        turn = pg.start_turn(session["id"], args.text, args.mode, opts(), persona_id=args.persona)
        try:
            for piece in turn.stream():
                sys.stdout.write(piece)
                sys.stdout.flush()
        finally:
            sys.stdout.write("\n")
            sys.stderr.write(json.dumps(turn.trace, default=str) + "\n")
    elif args.cmd == "status":
        _out(pg.status())
    elif args.cmd == "doctor":
        _out({"repaired": pg.repair(), "problems": pg.check_consistency()})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
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
