#!/usr/bin/env python3
"""The context-quality yardstick's scorer: how much of what a blanked function body used
does `ctxls context` return at the cursor?

    scripts/eval_score.py TASKS.jsonl CORPUS_DIR --bin target/release/ctxls [--budget N ...]
    scripts/eval_score.py --self-test

A task (one JSON object per line of TASKS.jsonl) names a file, the body of one function in
it (`body_start`, `body_end`), the cursor, and the definitions in other files the body
used (`expected`: name, file, 0-based first line); positions are 0-based lines and UTF-16
columns, as in LSP. For each budget N, in a fresh scratch copy of the corpus (without
.git, node_modules, target and dist), one untimed call first indexes and embeds the whole
copy, so that no task pays for it (nor times out on a loaded machine); then, for each
task, the scorer:
  1. blanks the body (the braces stay, one indented empty line between them),
  2. runs `ctxls context --root COPY FILE:LINE:COL --budget N --format json` at the cursor
     (1-based line, column in characters): the first call since the file changed,
  3. keeps the snippets in the order returned while their text fits in 4 x N characters
     (the first that does not fit is cut to its whole lines that do, and ends the list),
  4. counts a name as found when a kept snippet lies in the file of one of the name's
     definitions and its lines include that definition's first line,
then puts the file back. A task's recall is the share of its names found (a failed call
finds none); a corpus's recall is the mean over its tasks, `full` the share of tasks with
every name found. Prints one JSON object: {"tasks", "errors", "budgets": {"N": {"recall",
"full", "p50_s", "p95_s"}}}.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

LEFT_OUT = (".git", "node_modules", "target", "dist")


def char_index(line, utf16_column):
    """The index in `line` (a str, one item per code point) of a UTF-16 column; past the
    end of the line, the line's length."""
    units = 0
    for index, ch in enumerate(line):
        if units >= utf16_column:
            return index
        units += 2 if ord(ch) >= 0x10000 else 1
    return len(line)


def offset(lines, position):
    """The index in the text (lines joined by newlines) of an LSP position."""
    before = sum(len(line) + 1 for line in lines[: position["line"]])
    return before + char_index(lines[position["line"]], position["character"])


def blank_body(text, task):
    """The text with the body between `body_start` and `body_end` replaced by one
    indented empty line (the indentation of the body's first line)."""
    lines = text.split("\n")
    start, end = offset(lines, task["body_start"]), offset(lines, task["body_end"])
    indent = re.match(r"[ \t]*", lines[task["body_start"]["line"]]).group(0)
    return text[:start] + "\n" + indent + "    \n" + indent + text[end:]


def keep_within(snippets, characters):
    """The snippets, in order, whose text fits in `characters`; the first that does not
    fit is cut to the whole lines that do and is the last kept."""
    kept, used = [], 0
    for snippet in snippets:
        text = snippet.get("text") or ""
        if used + len(text) <= characters:
            kept.append(snippet)
            used += len(text)
            continue
        room, lines = characters - used, 0
        for line in text.split("\n"):
            if len(line) + 1 > room:
                break
            room -= len(line) + 1
            lines += 1
        if lines:
            kept.append(dict(snippet, end_line=snippet["start_line"] + lines - 1))
        break
    return kept


def relative(path, root):
    """A snippet's file as a path relative to the corpus root."""
    path = path.replace("\\", "/")
    if path.startswith("file://"):
        path = path[len("file://"):]
    if os.path.isabs(path):
        path = os.path.relpath(path, root).replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def found_names(task, kept, root, missed=None):
    """(names found, names expected) of a task, given the kept snippets; the names not
    found are appended to `missed` when it is given."""
    definitions = {}
    for expected in task["expected"]:
        definitions.setdefault(expected["name"], []).append((expected["file"], expected["line"] + 1))
    spans = [(relative(s["file"], root), s["start_line"], s["end_line"]) for s in kept]
    found = 0
    for name, places in definitions.items():
        if any(file == d_file and start <= d_line <= end for d_file, d_line in places for file, start, end in spans):
            found += 1
        elif missed is not None:
            missed.append(name)
    return found, len(definitions)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def one_pass(tasks, corpus, binary, budget, timeout, per_task=None):
    """Every task at one budget, in a fresh scratch copy: each call is the first after its
    file changed, as an editor's would be (a second call on an unchanged file ranks some
    snippets differently). Returns (recall sum, full count, seconds per call, errors); with
    `per_task` (an open file), one JSON line per task: its id, budget, recall and the
    names missed."""
    scratch = tempfile.mkdtemp(prefix="ctxls-eval-")
    root = os.path.join(scratch, "corpus")
    env = dict(os.environ, CTXLS_CACHE_DIR=os.path.join(scratch, "cache"))
    recall, full, times, errors = 0.0, 0, [], 0
    try:
        shutil.copytree(corpus, root, ignore=shutil.ignore_patterns(*LEFT_OUT), symlinks=True)
        warm_up = [binary, "context", "--root", root, f"{tasks[0]['file']}:1:1", "--budget", str(budget), "--format", "json"]
        try:
            subprocess.run(warm_up, cwd=root, env=env, capture_output=True, timeout=max(timeout, 600))
        except subprocess.TimeoutExpired:
            print("warning: the warm-up call timed out; the first tasks pay for the index", file=sys.stderr)
        for task in tasks:
            path = os.path.join(root, task["file"])
            with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
                original = f.read()
            blanked = blank_body(original, task)
            cursor = task["cursor"]
            column = char_index(blanked.split("\n")[cursor["line"]], cursor["character"]) + 1
            position = f"{task['file']}:{cursor['line'] + 1}:{column}"
            command = [binary, "context", "--root", root, position, "--budget", str(budget), "--format", "json"]
            snippets = []
            try:
                with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
                    f.write(blanked)
                started = time.monotonic()
                try:
                    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
                    if done.returncode != 0:
                        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
                    snippets = json.loads(done.stdout)["snippets"]
                except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as error:
                    errors += 1
                    if errors <= 3:
                        print(f"error: {task.get('id', position)} at budget {budget}: {error}", file=sys.stderr)
                times.append(time.monotonic() - started)
            finally:
                with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
                    f.write(original)
            missed = []
            found, expected = found_names(task, keep_within(snippets, 4 * budget), root, missed)
            if per_task is not None:
                row = {"id": task.get("id", position), "budget": budget, "recall": round(found / expected, 4), "missed": missed}
                per_task.write(json.dumps(row) + "\n")
            recall += found / expected
            full += found == expected
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return recall, full, times, errors


def score(tasks_path, corpus, binary, budgets, timeout, per_task=None, only=None):
    tasks = [json.loads(line) for line in open(tasks_path, encoding="utf-8") if line.strip()]
    if only:
        tasks = [t for t in tasks if any(o in t.get("id", "") for o in only)]
    if not tasks:
        raise SystemExit(f"{tasks_path} holds no task")
    n, errors, per_budget = len(tasks), 0, {}
    for budget in budgets:
        recall, full, times, failed = one_pass(tasks, corpus, binary, budget, timeout, per_task)
        errors += failed
        per_budget[str(budget)] = {
            "recall": round(recall / n, 4),
            "full": round(full / n, 4),
            "p50_s": round(percentile(times, 0.5), 4),
            "p95_s": round(percentile(times, 0.95), 4),
        }
    return {"tasks": n, "errors": errors, "budgets": per_budget}


def self_test():
    """The scoring rules on small cases (run by scripts/test.sh)."""
    # UTF-16 columns: an astral character takes two units.
    assert char_index("a😀b", 3) == 2 and char_index("ab", 9) == 2
    task = {"body_start": {"line": 0, "character": 10}, "body_end": {"line": 2, "character": 0}}
    assert blank_body("fn f() -> {\n    x\n}\n", task) == "fn f() -> \n    \n}\n"
    task = {"body_start": {"line": 1, "character": 11}, "body_end": {"line": 3, "character": 2}}
    assert blank_body("impl A {\n  fn f() { \n    1\n  }\n}", task) == "impl A {\n  fn f() { \n      \n  }\n}"
    snippets = [
        {"file": "a.rs", "start_line": 1, "end_line": 2, "text": "12345\n789"},
        {"file": "./b.rs", "start_line": 10, "end_line": 13, "text": "ab\ncd\nef\ngh"},
        {"file": "c.rs", "start_line": 1, "end_line": 1, "text": "x"},
    ]
    # 9 characters, then 6 of room: "ab\n" and "cd\n" fit, so b.rs keeps lines 10-11 and ends the list.
    kept = keep_within(snippets, 15)
    assert [(s["file"], s["start_line"], s["end_line"]) for s in kept] == [("a.rs", 1, 2), ("./b.rs", 10, 11)], kept
    assert keep_within(snippets, 9) == snippets[:1] and keep_within(snippets, 10) == snippets[:1]
    task = {"expected": [
        {"name": "A", "file": "b.rs", "line": 10},   # first line 11: kept
        {"name": "B", "file": "b.rs", "line": 12},   # first line 13: cut off
        {"name": "B", "file": "a.rs", "line": 1},    # another definition of B, kept
        {"name": "C", "file": "c.rs", "line": 0},    # past the budget
        {"name": "D", "file": "a.rs", "line": 5},    # not returned at all
    ]}
    missed = []
    assert found_names(task, kept, "/root", missed) == (2, 4) and missed == ["C", "D"]
    assert relative("/root/src/x.rs", "/root") == "src/x.rs" and relative("./src/x.rs", "/r") == "src/x.rs"
    print("eval_score.py: self-test passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tasks", nargs="?")
    parser.add_argument("corpus", nargs="?")
    parser.add_argument("--bin", default="ctxls", help="the ctxls binary")
    parser.add_argument("--budget", type=int, action="append", help="token budget (repeatable; default 2048)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per call")
    parser.add_argument("--per-task", metavar="FILE", help="write each task's recall and missed names (JSON lines) to FILE")
    parser.add_argument("--only", action="append", help="only the tasks whose id contains this (repeatable)")
    parser.add_argument("--self-test", action="store_true", help="check the scoring rules and exit")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    if not args.tasks or not args.corpus:
        parser.error("TASKS and CORPUS are needed")
    if not os.path.isdir(args.corpus):
        parser.error(f"no corpus at {args.corpus} (scripts/layout-corpora.sh eval/corpora.txt DIR lays them out)")
    # The calls run in the copy: a relative path to the binary is taken from here.
    binary = os.path.abspath(args.bin) if os.sep in args.bin else shutil.which(args.bin)
    if not binary or not os.access(binary, os.X_OK):
        parser.error(f"no ctxls binary at {args.bin}")
    args.bin = binary
    per_task = open(args.per_task, "w", encoding="utf-8") if args.per_task else None
    try:
        print(json.dumps(score(args.tasks, args.corpus, args.bin, args.budget or [2048], args.timeout, per_task, args.only)))
    finally:
        if per_task is not None:
            per_task.close()


if __name__ == "__main__":
    main()
