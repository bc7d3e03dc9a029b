#!/usr/bin/env python3
"""The generation yardstick's second table: whole function bodies, masked.

    scripts/eval_gen_body.py tasks CORPORA_DIR [--corpora-list a,b] [--limit N] > body-tasks.jsonl
    scripts/eval_gen_body.py run TASKS.jsonl CORPORA_DIR --server URL --bin CTXLS --model NAME
        --results FILE [--conditions none,ctxls,imports,oracle]
    scripts/eval_gen_body.py report --results FILE [--model NAME]
    scripts/eval_gen_body.py --self-test

The line tasks (`scripts/eval_gen.py`) ask the model for one line that needs another
file; these ask it for a whole body, as issue 24's first try did: in a dev-corpus source
file (the line tasks' files: tests, benches and examples left out), a function or method
whose body (the lines between the line that opens it with `{` and its closing `}` at the
definition's indentation) holds 3-25 non-blank lines and at most 1,200 characters, and
uses at least one cross-file name (the line tasks' definition table and rules: a name all
of whose definitions lie in exactly one other file, one of them nameable from outside;
not a standard name, not only through a path of a module the corpus lacks). Unlike a line
task, the name may already appear before the body: a body is written with what the file
imports and calls elsewhere, and what it needs beyond that is what context must bring.
One task per file (the first such function), ordered by a hash of the id, the corpora
interleaved, so that `--limit N` is a stable spread.

Each task is asked of llama-server's `/infill` with the same window for every condition:
the 80 lines before the body and its first line's indentation; a line break, the closing
line and the 30 lines after it. Greedy (temperature 0, seed 42), at most 1.5 times the
true body's length in tokens (estimated at 3.5 characters a token) plus 32; the answer is
cut where a line closes the definition (a `}` less indented than the body). Conditions as
the line tasks': `none`; `ctxls` (`ctxls complete --dry-run` at the body's start in a
scratch copy where the body is a blank line: the server's inline completion prompt,
default budget 1,024 tokens); `ctxls-512`; `imports` (Continue-style import following);
`oracle` (the definitions of the body's cross-file names).

Metrics per task: **names used** (the share of the body's cross-file names that the
answer also uses, the first try's measure), edit similarity (1 - Levenshtein / longer
length, over the lines trimmed and joined), identifier F1 (identifiers as sets), exact
match (lines trimmed), definition in context (as the line tasks'). Results are appended
to a JSONL file, one per (task, condition, model); a rerun skips what it holds.
"""
import argparse
import json
import os
import re
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_gen as g  # noqa: E402  (the line tasks' tables, contexts and statistics)

BEFORE, AFTER = 80, 30
MIN_LINES, MAX_LINES, MAX_CHARS = 3, 25, 1200
SIGNATURE_LINES = 8
CONDITIONS = ("none", "ctxls", "ctxls-512", "imports", "oracle")
RUST_FN = re.compile(
    r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?(?:(?:const|async|unsafe|extern\s+\"[^\"]*\"|default)\s+)*fn\s+[A-Za-z_]\w*"
)
TS_FN = re.compile(r"^(\s*)(?:export\s+)?(?:default\s+)?(?:async\s+)?function\*?\s+[A-Za-z_$][\w$]*")


# ---- tasks ----

def indentation(line):
    return re.match(r"[ \t]*", line).group(0)


def function_starts(lines, lang):
    """(definition line, its indentation) of each function or method the patterns find."""
    for number, line in enumerate(lines):
        match = RUST_FN.match(line) if lang == "rust" else (TS_FN.match(line) or g.TS_METHOD.match(g.strip_strings(line)))
        if match:
            yield number, indentation(line)


def body_of(lines, start, indent):
    """(first body line, end exclusive) of the definition at `start`: the body opens on
    the first line (of the signature's first SIGNATURE_LINES) whose code ends with `{`,
    and ends before the line that closes it, a `}` at the definition's indentation with
    the braces balanced. None for a one-line body, a declaration or an unbalanced one."""
    opened = None
    for number in range(start, min(len(lines), start + SIGNATURE_LINES)):
        code = g.strip_strings(lines[number]).rstrip()
        if code.endswith(";"):
            return None
        if code.endswith("{"):
            opened = number
            break
    if opened is None:
        return None
    depth = sum(g.strip_strings(lines[n]).count("{") - g.strip_strings(lines[n]).count("}") for n in range(start, opened + 1))
    if depth != 1:
        return None
    for number in range(opened + 1, len(lines)):
        code = g.strip_strings(lines[number])
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            if depth == 0 and code.strip().startswith("}") and indentation(lines[number]) == indent:
                return opened + 1, number
            return None
    return None


def body_names(body_lines, table, rel, texts):
    """The cross-file names the body uses, with their definitions (first use first)."""
    targets, seen = [], set()
    for line in body_lines:
        for name in g.used_names(g.strip_strings(line)):
            if name in seen:
                continue
            seen.add(name)
            places = table.get(name)
            if len(name) < 3 or name in g.KEYWORDS or not places or len(places) != 1 or rel in places:
                continue
            if not next(iter(places.values())) or g.foreign_path(line, name, texts):
                continue
            (file, starts), = places.items()
            targets.append(dict(g.excerpt(texts, file, starts[0]), name=name))
    return targets


def file_task(corpus_name, rel, texts, table):
    lines = texts[rel].split("\n")
    lang = g.EXTENSIONS[os.path.splitext(rel)[1]]
    for start, indent in function_starts(lines, lang):
        found = body_of(lines, start, indent)
        if not found:
            continue
        first, end = found
        body = lines[first:end]
        filled = [l for l in body if l.strip()]
        if not MIN_LINES <= len(filled) <= MAX_LINES or len("\n".join(body)) > MAX_CHARS or not body[0].strip():
            continue
        targets = body_names(body, table, rel, texts)
        if not targets:
            continue
        body_indent = indentation(body[0])
        return {
            "id": f"{corpus_name}:{rel}:{first + 1}",
            "kind": "body",
            "corpus": corpus_name,
            "file": rel,
            "line": first,
            "end": end,
            "indent": body_indent,
            "truth": "\n".join(body)[len(body_indent):].rstrip(),
            "targets": targets,
        }
    return None


def make_tasks(corpora_dir, names, limit):
    return g.make_tasks(corpora_dir, names, limit, lambda *file: [t for t in [file_task(*file)] if t])


# ---- contexts ----

def window(text, task):
    """(prefix, suffix) around the masked body: BEFORE lines and the first line's
    indentation; a line break, the closing line and AFTER lines."""
    lines = text.split("\n")
    prefix = "".join(l + "\n" for l in lines[max(0, task["line"] - BEFORE) : task["line"]]) + task["indent"]
    suffix = "\n" + "\n".join(lines[task["end"] : task["end"] + 1 + AFTER])
    return prefix, suffix


# ---- the model ----

def predict_tokens(task):
    return int(len(task["truth"]) / 3.5 * 1.5) + 32


def infill(server, prefix, suffix, extra, n_predict, timeout):
    body = {"input_prefix": prefix, "input_suffix": suffix, "input_extra": extra, "n_predict": n_predict,
            "temperature": 0, "top_k": 1, "seed": 42, "cache_prompt": True, "stream": False}
    request = urllib.request.Request(f"{server}/infill", json.dumps(body).encode(), {"content-type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    return answer, time.monotonic() - started


def cut(prediction, task):
    """The answer up to the line that closes the definition (a `}` less indented than
    the body), trailing blank space removed."""
    lines = prediction.split("\n")
    for number, line in enumerate(lines[1:], 1):
        if line.strip().startswith("}") and len(indentation(line)) < len(task["indent"]):
            lines = lines[:number]
            break
    return "\n".join(lines).rstrip()


# ---- metrics ----

def normalized(text):
    return "\n".join(l.strip() for l in text.split("\n") if l.strip())


def scores(prediction, task):
    mine_text, truth_text = normalized(prediction), normalized(task["truth"])
    longest = max(len(mine_text), len(truth_text)) or 1
    mine = set(g.IDENT.findall(g.strip_strings(mine_text))) - g.KEYWORDS
    theirs = set(g.IDENT.findall(g.strip_strings(truth_text))) - g.KEYWORDS
    common = len(mine & theirs)
    f1 = 1.0 if not mine and not theirs else (2 * common / (len(mine) + len(theirs)) if common else 0.0)
    used = sum(bool(re.search(r"(?<![\w$])" + re.escape(t["name"]) + r"(?![\w$])", prediction)) for t in task["targets"])
    return {"em": float(mine_text == truth_text), "es": 1 - g.levenshtein(mine_text, truth_text) / longest, "id_f1": f1,
            "names": used / len(task["targets"])}


# ---- run and report ----

def run(args):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tasks = [json.loads(l) for l in open(args.tasks, encoding="utf-8") if l.strip()]
    conditions = args.conditions.split(",")
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise SystemExit(f"unknown condition(s) {', '.join(unknown)}; known: {', '.join(CONDITIONS)}")
    results = g.load_results(args.results)
    ctxls = g.Ctxls(args.bin, args.corpora, args.server)
    tables = {}
    out = open(args.results, "a", encoding="utf-8")
    started, done = time.monotonic(), 0
    try:
        for number, task in enumerate(tasks, 1):
            todo = [c for c in conditions if (task["id"], c, args.model) not in results]
            if not todo:
                continue
            corpus = os.path.join(args.corpora, task["corpus"])
            if task["corpus"] not in tables:
                tables.clear()
                tables[task["corpus"]] = g.definition_table(corpus, g.source_files(corpus))
            table, texts = tables[task["corpus"]]
            prefix, suffix = window(texts[task["file"]], task)
            for condition in todo:
                if condition == "none":
                    extra = []
                elif condition == "ctxls":
                    extra = ctxls.request(task)["input_extra"]
                elif condition == "ctxls-512":
                    extra = ctxls.request(task, 512)["input_extra"]
                elif condition == "imports":
                    extra = g.import_context(task, texts, table)
                else:
                    extra = g.rendered(task["targets"])
                answer, seconds = infill(args.server, prefix, suffix, extra, predict_tokens(task), args.timeout)
                prediction = cut(answer.get("content", ""), task)
                record = {"task": task["id"], "corpus": task["corpus"], "condition": condition, "model": args.model,
                          "prediction": prediction, "truth": task["truth"],
                          "snippets": len(extra), "extra_chars": sum(len(e["text"]) for e in extra),
                          "prompt_tokens": answer.get("tokens_evaluated") or answer.get("timings", {}).get("prompt_n"),
                          "seconds": round(seconds, 2), "found": g.found(task, extra),
                          "extra_files": [e["filename"] for e in extra]}
                record.update(scores(prediction, task))
                out.write(json.dumps(record) + "\n")
                out.flush()
                results[(task["id"], condition, args.model)] = record
            done += 1
            elapsed = time.monotonic() - started
            print(f"[{number}/{len(tasks)}] {task['id']} ({elapsed / done:.0f} s/task)", file=sys.stderr)
    finally:
        out.close()
        ctxls.close()


def report(args):
    results = g.load_results(args.results)
    models = sorted({m for (_, _, m) in results})
    for model in [args.model] if args.model else models:
        by_task = {}
        for (task, condition, m), r in results.items():
            if m == model:
                by_task.setdefault(task, {})[condition] = r
        conditions = [c for c in CONDITIONS if any(c in v for v in by_task.values())]
        complete = {t: v for t, v in by_task.items() if all(c in v for c in conditions)}
        n = len(complete)
        if not n:
            continue
        corpora = sorted({r["corpus"] for v in complete.values() for r in v.values()})
        print(f"\nwhole bodies, model {model}: {n} tasks with every condition ({', '.join(conditions)}); corpora: {', '.join(corpora)}")
        print("| context | names used | edit similarity | identifier F1 | exact match | definition in context | snippets | prompt tokens | s/request |")
        print("|---|---|---|---|---|---|---|---|---|")
        for c in conditions:
            rows = [v[c] for v in complete.values()]
            mean = lambda key: sum((r.get(key) or 0) for r in rows) / n
            print(f"| {c} | {mean('names'):.3f} | {mean('es'):.3f} | {mean('id_f1'):.3f} | {mean('em'):.3f} | {mean('found'):.3f} | "
                  f"{mean('snippets'):.1f} | {mean('prompt_tokens'):.0f} | {mean('seconds'):.1f} |")
        pairs = [(x, y) for x, y in [("ctxls", "none"), ("ctxls-512", "none"), ("imports", "none"), ("oracle", "none"),
                                     ("ctxls-512", "ctxls"), ("ctxls", "imports"), ("oracle", "ctxls")]
                 if x in conditions and y in conditions]
        print("\npaired differences, mean ± half-width of the 95 % interval (normal approximation)")
        print("| difference | names used | edit similarity | identifier F1 | exact match |")
        print("|---|---|---|---|---|")
        for x, y in pairs:
            cells = []
            for key in ("names", "es", "id_f1", "em"):
                mean, half, _ = g.paired([v[x][key] for v in complete.values()], [v[y][key] for v in complete.values()])
                cells.append(f"{mean:+.3f} ± {half:.3f}")
            print(f"| {x} − {y} | " + " | ".join(cells) + " |")


def self_test():
    rust = ["impl A {", "    pub fn long(&self,", "        x: u32) -> u32 {", "        let y = helper(x);", "        if y > 1 {",
            "            y", "        } else { 0 }", "    }", "    fn decl(&self);", "    fn short() { 1 }", "}"]
    starts = list(function_starts(rust, "rust"))
    assert [s for s, _ in starts] == [1, 8, 9], starts
    assert body_of(rust, 1, "    ") == (3, 7), body_of(rust, 1, "    ")
    assert body_of(rust, 8, "    ") is None and body_of(rust, 9, "    ") is None
    ts = ["export function f(a: number): number {", "  const b = g(a)", "  return b", "}", "class C {", "  m(x: string) {",
          "    return x", "  }", "}"]
    assert body_of(ts, 0, "") == (1, 3) and body_of(ts, 5, "  ") == (6, 7)
    texts = {"a.rs": "\n".join(["use crate::b::helper;", "pub fn main() {", "    let q = 1;", "    let r = helper(q);",
                                "    r + Thing::new().0", "}", ""]),
             "b.rs": "pub fn helper(q: u32) -> u32 {\n    q\n}\npub struct Thing(pub u32);\n"}
    table = {"helper": {"b.rs": [0]}, "Thing": {"b.rs": [3]}, "main": {"a.rs": [1]}}
    task = file_task("c", "a.rs", texts, table)
    assert task and (task["line"], task["end"], task["indent"]) == (2, 5, "    "), task
    assert task["truth"] == "let q = 1;\n    let r = helper(q);\n    r + Thing::new().0", task["truth"]
    assert [t["name"] for t in task["targets"]] == ["helper", "Thing"], task["targets"]
    prefix, suffix = window(texts["a.rs"], task)
    assert prefix.endswith("pub fn main() {\n    ") and suffix.startswith("\n}"), (prefix, suffix)
    assert cut("let q = 2;\n    q\n}\n\nfn other() {}", task) == "let q = 2;\n    q"
    s = scores("let q = 1;\n  let r = helper(q);\n  r + Thing::new().0\n", task)
    assert s["em"] == 1.0 and s["es"] == 1.0 and s["names"] == 1.0 and s["id_f1"] == 1.0, s
    s = scores("helper(1)", task)
    assert s["em"] == 0.0 and s["names"] == 0.5 and 0 < s["es"] < 1, s
    assert predict_tokens({"truth": "x" * 70}) == 62
    print("eval_gen_body.py: self-test passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true")
    sub = parser.add_subparsers(dest="command")
    t = sub.add_parser("tasks", help="write the body tasks of the corpora as JSONL")
    t.add_argument("corpora")
    t.add_argument("--corpora-list", default="", help="comma-separated corpus directory names (default: all)")
    t.add_argument("--limit", type=int, default=0)
    r = sub.add_parser("run", help="ask the model; append results")
    r.add_argument("tasks")
    r.add_argument("corpora")
    r.add_argument("--server", required=True)
    r.add_argument("--bin", required=True)
    r.add_argument("--model", required=True)
    r.add_argument("--results", required=True)
    r.add_argument("--conditions", default="none,ctxls,imports,oracle")
    r.add_argument("--timeout", type=float, default=900)
    p = sub.add_parser("report", help="print the tables")
    p.add_argument("--results", required=True)
    p.add_argument("--model", default="")
    args = parser.parse_args()
    if args.self_test:
        self_test()
    elif args.command == "tasks":
        names = args.corpora_list.split(",") if args.corpora_list else sorted(os.listdir(args.corpora))
        for task in make_tasks(args.corpora, names, args.limit):
            print(json.dumps(task))
    elif args.command == "run":
        run(args)
    elif args.command == "report":
        report(args)
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
