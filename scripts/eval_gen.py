#!/usr/bin/env python3
"""The generation yardstick: what a real code model writes on one blanked line, given no
context, ctxls's context, an import-following baseline, or the definitions the line uses.

    scripts/eval_gen.py tasks CORPORA_DIR [--corpora a,b] [--limit N] > tasks.jsonl
    scripts/eval_gen.py run TASKS.jsonl CORPORA_DIR --server URL --bin CTXLS --model NAME
        [--results FILE] [--conditions none,ctxls,imports,oracle]
    scripts/eval_gen.py report --results FILE [--model NAME]
    scripts/eval_gen.py --self-test

Tasks, in the manner of CrossCodeEval (Ding et al. 2023), from the dev corpora without a
parser: a definition table is read with line patterns and the braces around each line
(Rust `fn struct enum trait type const static union macro_rules!` at any depth, enum
variants, struct fields; TypeScript/JavaScript `function class interface type enum
namespace`, class and interface members, methods, `const let var` at the top level of a
module or namespace). A definition inside a function body or another block that no other
file can name (an object literal, a `macro_rules!` body; an item macro's block such as
`cfg_net! { .. }` is the module's), and a Rust struct field, only make a name ambiguous:
they are never the definition a line needs. A name is *cross-file* for a file when all its
definitions lie in exactly one other file (no test, bench or example file) and one of them
can be named from outside. A line is a task when it is indented (inside a definition), is
code (no comment, import, attribute or decorator), holds 8-120 characters, and names a
cross-file name that the file's text before the line never names (not even in a comment
or a string): the model cannot copy it from the prefix; and not only through a path of a
module the corpus lacks (`mem::forget`: the standard library's) or in a string literal.
At most 3 tasks per file, 10 lines apart; each corpus's tasks are ordered by a hash of
their id and the corpora interleaved, so that `--limit N` is a stable spread.

Each task is asked of llama-server's `/infill` with the same code window for every
condition (the 40 lines before the line and its indentation; the 10 lines after), greedy
(temperature 0, seed 42), stopping at the end of the line; only `input_extra` differs:
  none     no context;
  ctxls    the `input_extra` of the request that `ctxls complete --dry-run` prints at
           the line's start in a scratch copy of the corpus where the line is blank
           (the server's inline completion builds it the same way: `ide::prompt`
           through the llamacpp provider, default budget 1,024 tokens);
  imports  Continue-style import following: the definitions (table above) of the names
           the file imports (`use` / `import`), in import order, within 4,096
           characters, as ctxls renders excerpts (`path (lines a-b)`);
  ctxls-merged  the same excerpts, those of one file merged into one file of the
           repository form in line order (`...` between them): the experiment behind
           ctxls's own merging (session 11); with a ctxls that merges, the same as ctxls;
  ctxls-512     `ctxls complete --dry-run --budget 512`;
  ctxls-whole   `ctxls complete --dry-run --packing whole`: fewer, whole short
           definitions, signatures of long ones, nothing ranked far below the best
           (`retrieve::Packing::Whole`, the configuration's `completion.packing`);
  ctxls-best-last  ctxls's files in the reverse order: the best-ranked file last, next to
           the code (llama-server puts `input_extra` before the prefix, in order);
  oracle   the definitions of the cross-file names the line uses.
Metrics per task: exact match of the line (whitespace trimmed), edit similarity
(1 - Levenshtein / longer length), identifier F1 (identifiers of the line as sets),
whether every cross-file name of the task is in the answer, and how likely the model finds
the true line: a second request with the same (cached) prompt forces the line and its end
with a grammar and reads the model's log-probability of each forced token before sampling;
summed over the line (`line_lp`) and over the tokens of its cross-file names (`name_lp`). Results are appended to
a JSONL file, one per (task, condition, model), and a rerun skips what it holds.
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

LEFT_OUT = (".git", "node_modules", "target", "dist")
EXTENSIONS = {".rs": "rust", ".ts": "ts", ".tsx": "ts", ".js": "ts", ".mjs": "ts", ".cjs": "ts"}
NOT_SOURCE = re.compile(r"(^|/)(tests?|benches|examples|__tests__|fixtures|dtslint)/|\.(test|spec)\.|\.d\.ts$")
BEFORE, AFTER = 40, 10
EXTRA_CHARS = 4 * 1024
DEFINITION_LINES = 40
PER_FILE, SPACING = 3, 10
CONDITIONS = ("none", "ctxls", "ctxls-merged", "ctxls-512", "ctxls-whole", "ctxls-best-last", "imports", "oracle")
IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
RUST_DEF = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:const|async|unsafe|extern\s+\"[^\"]*\"|default)\s+)*"
    r"(?:fn|struct|enum|trait|type|const|static|union|macro_rules!)\s+([A-Za-z_]\w*)"
)
TS_DEF = re.compile(
    r"^(\s*)(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
    r"(function\*?|class|interface|type|enum|namespace|const|let|var)\s+([A-Za-z_$][\w$]*)"
)
KEYWORDS = set(
    "as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move "
    "mut pub ref return self Self static struct super trait true type unsafe use where while yield Some None Ok Err "
    "Box Vec String Option Result new default from into clone function class interface extends implements import "
    "export this var void null undefined typeof instanceof of case switch throw try catch finally delete do "
    "readonly private protected public get set declare namespace keyof infer never unknown any number string boolean "
    "object symbol bigint bool char str u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize f32 f64".split()
)


# Names of the standard libraries (Rust's std, JavaScript's built-ins) that a corpus may
# define again: a use of them is most likely the standard one.
COMMON = set(
    "Poll Ready Pending Some None Ok Err Option Result Vec Box Rc Arc String Cow Pin Context Waker Ordering "
    "Error ErrorKind Iterator IntoIterator Default Debug Display Formatter From Into Send Sync Sized Clone Copy "
    "Eq PartialEq Hash Hasher Fn FnMut FnOnce Future Stream Read Write Seek Drop Deref DerefMut AsRef AsMut "
    "console process window document globalThis navigator "
    "Symbol Object Array Map Set WeakMap WeakSet Promise Math JSON Date Number Boolean RegExp Reflect Proxy "
    "Record Partial Readonly ReadonlyArray Pick Omit Exclude Extract ReturnType Parameters NonNullable Iterable "
    "as_ref as_mut push pop get set has delete insert remove clear contains len is_empty iter iter_mut next "
    "into_iter into_inner get_ref get_mut unwrap expect map map_err and_then ok_or take replace split find join "
    "keys values entries forEach filter reduce concat slice splice indexOf includes apply call bind then catch "
    "finally toString valueOf fmt write write_str write_all read read_exact flush poll poll_next poll_read "
    "poll_write poll_flush poll_close eq ne cmp partial_cmp hash clone drop deref deref_mut from into new default "
    "with_capacity extend append truncate resize reserve sort sort_by dedup retain drain first last min max abs "
    "setTime getTime dispose subscribe unsubscribe emit add size length some every fill copy_from_slice "
    "to_string to_owned as_str as_bytes as_ptr is_some is_none is_ok is_err unwrap_or unwrap_or_else "
    "unwrap_or_default".split()
)
TS_METHOD = re.compile(
    r"^\s*(?:(?:public|private|protected|static|async|get|set|override|readonly|abstract)\s+)*\*?"
    r"(?!if\b|for\b|while\b|switch\b|catch\b|return\b)[\w$]+\s*(?:<[^>]*>)?\(.*\)\s*(?::\s*[^=]*)?\{\s*$"
)


# ---- tasks ----

def source_files(corpus):
    """The corpus's source files (paths relative to it, sorted), tests and the like left out."""
    found = []
    for top, dirs, files in os.walk(corpus):
        dirs[:] = sorted(d for d in dirs if d not in LEFT_OUT and not d.startswith("."))
        for name in files:
            rel = os.path.relpath(os.path.join(top, name), corpus).replace(os.sep, "/")
            if os.path.splitext(name)[1] in EXTENSIONS and not NOT_SOURCE.search(rel):
                found.append(rel)
    return sorted(found)


def read(path):
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


RUST_BLOCK = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:const|async|unsafe|extern\s+\"[^\"]*\"|default)\s+)*"
    r"(mod|impl|trait|enum|struct|union|fn)\b"
)
TS_BLOCK = re.compile(
    r"^\s*(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
    r"(namespace|module|class|interface|enum|function)\b"
)
RUST_VARIANT = re.compile(r"^\s*([A-Z]\w*)\s*(?:[({,=]|$)")
RUST_FIELD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?([A-Za-z_]\w*)\s*:(?!:)")
TS_MEMBER = re.compile(
    r"^\s*(?:(?:public|private|protected|static|readonly|declare|abstract|override|async|get|set)\s+)*"
    r"\*?([A-Za-z_$#][\w$]*)[?!]?\s*(?:<[^>]*>\s*)?[(:=]"
)
# Blocks whose definitions other files can name (a module's, a type's); a definition in
# any other block (a function's body, an object literal) is local.
OPEN_BLOCKS = {"mod", "impl", "trait", "enum", "struct", "union", "namespace", "module", "class", "interface"}


def definition_names(lines, lang):
    """(name, 0-based line, visible) of each definition the line patterns find, with the
    blocks around each line tracked by their braces: Rust items at any depth, enum
    variants and struct fields; TypeScript declarations, class and interface members,
    methods. `visible`: another file can name it (no function body or other block
    around it; a TypeScript `const`/`let`/`var` only at the top level of a module or
    namespace)."""
    out, stack, pending = [], [], None
    block = RUST_BLOCK if lang == "rust" else TS_BLOCK
    for number, line in enumerate(lines):
        code = strip_strings(line)
        inside = stack[-1] if stack else None
        visible = all(kind in OPEN_BLOCKS for kind in stack)
        names = []
        if lang == "rust":
            match = RUST_DEF.match(line)
            if match:
                names.append((match.group(1), visible))
            elif inside == "enum" and RUST_VARIANT.match(code):
                names.append((RUST_VARIANT.match(code).group(1), visible))
            elif inside in ("struct", "union") and RUST_FIELD.match(code):
                # A field is named by `.x` like the many methods of other types: never a target.
                names.append((RUST_FIELD.match(code).group(1), False))
        else:
            match = TS_DEF.match(line)
            if match:
                local = match.group(2) in ("const", "let", "var") and inside not in (None, "namespace", "module")
                names.append((match.group(3), visible and not local))
            elif inside in ("class", "interface") and TS_MEMBER.match(code):
                names.append((TS_MEMBER.match(code).group(1), visible))
            elif TS_METHOD.match(code):
                names.append((re.search(r"\*?([\w$]+)\s*(?:<[^>]*>)?\(", code).group(1), False))
        out.extend((name, number, shown) for name, shown in names)
        opener = block.match(code)
        if opener:
            pending = opener.group(1)
        elif lang == "rust" and re.match(r"\s*macro_rules!", code):
            pending = "other"
        elif lang == "rust" and visible and re.match(r"\s*[\w:]+!\s*[{(]", code):
            pending = "mod"  # an item macro (`cfg_net! {`): its items are the module's
        elif lang != "rust" and TS_METHOD.match(code):
            pending = "function"
        for ch in code:
            if ch == "{":
                stack.append(pending or "other")
                pending = None
            elif ch == "}":
                if stack:
                    stack.pop()
            elif ch == ";" and pending:
                pending = None
    return out


def definition_end(lines, start):
    """The last line (0-based) of the definition starting at `start`: braces balanced, or
    the first `;` outside braces; at most DEFINITION_LINES lines."""
    depth, opened = 0, False
    for number in range(start, min(len(lines), start + DEFINITION_LINES)):
        code = strip_strings(lines[number])
        for ch in code:
            if ch in "{(":
                depth += 1
                opened = opened or ch == "{"
            elif ch in "})":
                depth -= 1
            elif ch == ";" and depth == 0:
                return number
        if opened and depth <= 0:
            return number
    return min(len(lines), start + DEFINITION_LINES) - 1


def strip_strings(line):
    """The line without string literals and its trailing `//` comment (roughly)."""
    line = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`(?:[^`\\]|\\.)*`', "0", line)
    cuts = [i for i in (line.find("//"), line.find('"'), line.find("`")) if i >= 0]
    return line[: min(cuts)] if cuts else line  # a comment, or a string going on to the next line


def definition_table(corpus, files):
    """name -> {file: [first lines of the definitions other files can name]} over the
    corpus's source files, with `None` for a file where the name has only local or member
    definitions (they make a name ambiguous, never a target); file texts by path."""
    table, texts = {}, {}
    for rel in files:
        text = read(os.path.join(corpus, rel))
        texts[rel] = text
        for name, number, visible in definition_names(text.split("\n"), EXTENSIONS[os.path.splitext(rel)[1]]):
            starts = table.setdefault(name, {}).setdefault(rel, [])
            if visible:
                starts.append(number)
    return table, texts


def excerpt(texts, rel, start):
    lines = texts[rel].split("\n")
    end = definition_end(lines, start)
    return {"file": rel, "line": start, "end_line": end, "text": "\n".join(lines[start : end + 1])}


def is_candidate_line(line):
    stripped = line.strip()
    if not line[:1].isspace() or not 8 <= len(stripped) <= 120:
        return False
    return not re.match(r"(//|/\*|\*|#|@|use\s|pub\s+use\s|import\s|export\s.*\sfrom\s|mod\s|pub\s+mod\s)", stripped)


IMPORT_STATEMENT = re.compile(
    r"^[ \t]*(?:pub(?:\([^)]*\))?\s+)?use\s[^;]*;|^[ \t]*(?:import|export)\s[^;]*?\bfrom\s*['\"][^'\"]*['\"]|^[ \t]*export\s*\{[^}]*\}",
    re.M,
)


def import_lines(text):
    """The 0-based numbers of the lines inside import statements (`use`, `import`,
    `export ... from`, `export { ... }`), which may span lines."""
    lines = set()
    for match in IMPORT_STATEMENT.finditer(text):
        first = text.count("\n", 0, match.start())
        lines.update(range(first, first + match.group(0).count("\n") + 1))
    return lines


def used_names(code):
    """Names the code uses rather than binds: a capitalized name not followed by a single
    `:` (a field or parameter); a lower-case name only when called (`f(`, `m!(`, `f::<`)
    or as a path's segment (`m::f`)."""
    names = []
    for match in IDENT.finditer(code):
        name, after, before = match.group(0), code[match.end():].lstrip(" "), code[:match.start()]
        if re.search(r"\b(let|mut|fn|const|var|struct|enum|type|trait|interface|class|function)\s+$", before):
            continue
        if name in COMMON or re.search(r"(?:^|[^\w$])(?:infer|keyof)\s+$", before) or after.startswith("extends "):
            continue
        qualifier = re.search(r"([A-Za-z_$][\w$]*)(?:::|\.)$", before)
        if qualifier and qualifier.group(1) in COMMON:
            continue  # `Poll::Ready`, `Symbol.iterator`: a member of a standard type
        if name[:1].isupper():
            if not (after.startswith(":") and not after.startswith("::")):
                names.append(name)
        elif after.startswith(("(", "!(", "::")) or before.endswith("::"):
            names.append(name)
    return names


def module_names(texts):
    """The names a Rust path may start with inside the corpus: its files' stems and
    directories, `crate`, `self`, `super`."""
    if module_names.cache[0] is not texts:
        names = {"crate", "self", "super", "Self"}
        for rel in texts:
            parts = rel[: -len(os.path.splitext(rel)[1])].split("/")
            names.update(parts)
        module_names.cache = (texts, names)
    return module_names.cache[1]


module_names.cache = (None, set())


def foreign_path(line, name, texts):
    """Whether every use of `name` in the line is a path through a lower-case module the
    corpus does not have (`mem::forget`, `ptr::read`): the standard library's, not the
    corpus's definition of the same name."""
    code = strip_strings(line)
    uses = list(re.finditer(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])", code))
    foreign = 0
    for use in uses:
        qualifier = re.search(r"([a-z_][\w]*)::$", code[: use.start()])
        if qualifier and qualifier.group(1) not in module_names(texts):
            foreign += 1
    return bool(uses) and foreign == len(uses)


def file_tasks(corpus_name, rel, texts, table):
    text = texts[rel]
    lines = text.split("\n")
    tasks, last, before = [], -SPACING, 0
    in_imports = import_lines(text)
    for number, line in enumerate(lines):
        start = before
        before += len(line) + 1
        if number < 5 or number - last < SPACING or not is_candidate_line(line):
            continue
        if number in in_imports or RUST_DEF.match(line) or TS_DEF.match(line) or (not rel.endswith(".rs") and TS_METHOD.match(line)):
            continue
        prefix = text[:start]
        targets = []
        for name in dict.fromkeys(used_names(strip_strings(line))):
            places = table.get(name)
            if len(name) < 3 or name in KEYWORDS or not places or len(places) != 1 or rel in places:
                continue
            if not next(iter(places.values())) or foreign_path(line, name, texts):
                continue
            if re.search(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])", prefix):
                continue
            (file, starts), = places.items()
            targets.append(dict(excerpt(texts, file, starts[0]), name=name))
        if targets:
            indent = re.match(r"[ \t]*", line).group(0)
            tasks.append({
                "id": f"{corpus_name}:{rel}:{number + 1}",
                "corpus": corpus_name,
                "file": rel,
                "line": number,
                "indent": indent,
                "truth": line[len(indent):].rstrip(),
                "targets": targets,
            })
            last = number
            if len(tasks) == PER_FILE:
                break
    return tasks


def make_tasks(corpora_dir, names, limit, tasks_of=None):
    """The tasks of the corpora (`tasks_of(corpus, rel, texts, table)` gives a file's:
    the line tasks by default), each corpus's ordered by a hash of their ids, the corpora
    interleaved, the first `limit`."""
    tasks_of = tasks_of or file_tasks
    per_corpus = []
    for name in names:
        corpus = os.path.join(corpora_dir, name)
        files = source_files(corpus)
        table, texts = definition_table(corpus, files)
        tasks = [t for rel in files for t in tasks_of(name, rel, texts, table)]
        tasks.sort(key=lambda t: hashlib.sha1(t["id"].encode()).hexdigest())
        per_corpus.append(tasks)
    out = []
    for round_ in range(max((len(t) for t in per_corpus), default=0)):
        out.extend(tasks[round_] for tasks in per_corpus if round_ < len(tasks))
    return out[:limit] if limit else out


# ---- contexts ----

def window(text, task):
    """(prefix, suffix) around the blanked line: BEFORE lines and the indentation; the
    line's end and AFTER lines."""
    lines = text.split("\n")
    n = task["line"]
    prefix = "".join(l + "\n" for l in lines[max(0, n - BEFORE) : n]) + task["indent"]
    suffix = "\n" + "\n".join(lines[n + 1 : n + 1 + AFTER])
    return prefix, suffix


def rendered(excerpts):
    """Excerpts as `input_extra` chunks, rendered as ctxls renders its own (the best last)."""
    return [{"filename": f"{e['file']} (lines {e['line'] + 1}-{e['end_line'] + 1})", "text": e["text"] + "\n"} for e in excerpts]


def imported_names(text, lang):
    """Names a file imports, in order: the last segment of each `use` path (items in braces
    too; `self` stands for its module), or the bindings of each `import`."""
    names = []
    if lang == "rust":
        for statement in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text, re.M):
            statement = re.sub(r"\s+", "", re.sub(r"\s+as\s+[\w]+", "", statement))
            base = statement.split("::{")[0].split("::")[-1] if "::{" in statement else ""
            for item in re.split(r"[{},]", statement):
                last = item.split("::")[-1] if item else ""
                if item.endswith("::self"):
                    last = item.split("::")[-2]
                elif item == "self":
                    last = base
                if last and last not in ("*", "self", "super", "crate"):
                    names.append(last)
    else:
        for clause in re.findall(r"^\s*import\s+(?:type\s+)?([^;'\"]+?)\s+from\s", text, re.M):
            clause = re.sub(r"\*\s+as\s+[\w$]+", "", clause)
            for item in re.split(r"[{},\s]+", re.sub(r"\s+as\s+[\w$]+", "", clause)):
                if item and item != "type" and IDENT.fullmatch(item):
                    names.append(item)
    return list(dict.fromkeys(names))


def import_context(task, texts, table):
    rel = task["file"]
    chosen, used = [], 0
    for name in imported_names(texts[rel], EXTENSIONS[os.path.splitext(rel)[1]]):
        places = {f: s for f, s in table.get(name, {}).items() if f != rel and s}
        if not places:
            continue
        file = sorted(places, key=lambda f: (len(places) > 1 and name.lower() not in f.lower(), f))[0]
        item = excerpt(texts, file, places[file][0])
        if used + len(item["text"]) > EXTRA_CHARS:
            continue
        chosen.append(item)
        used += len(item["text"])
    return rendered(chosen)


class Ctxls:
    """`ctxls complete --dry-run` in a scratch copy of one corpus at a time."""

    def __init__(self, binary, corpora_dir, server):
        self.binary, self.corpora_dir, self.server = binary, corpora_dir, server
        self.corpus, self.scratch = None, None

    def open(self, corpus):
        if self.corpus == corpus:
            return
        self.close()
        self.scratch = tempfile.mkdtemp(prefix="ctxls-eval-gen-")
        self.root = os.path.join(self.scratch, "corpus")
        shutil.copytree(os.path.join(self.corpora_dir, corpus), self.root, ignore=shutil.ignore_patterns(*LEFT_OUT), symlinks=True)
        with open(os.path.join(self.root, ".ctxls.toml"), "w") as f:
            f.write(f'[llm]\nprovider = "llamacpp"\nbase_url = "{self.server}"\nmodel = "qwen2.5-coder"\n')
        self.env = dict(os.environ, CTXLS_CACHE_DIR=os.path.join(self.scratch, "cache"))
        self.corpus = corpus
        started = time.monotonic()
        first = source_files(self.root)[0]
        subprocess.run([self.binary, "context", "--root", self.root, f"{first}:1:1", "--format", "json"],
                       cwd=self.root, env=self.env, capture_output=True, timeout=900)
        print(f"  indexed {corpus} in {time.monotonic() - started:.0f} s", file=sys.stderr)

    def close(self):
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.corpus, self.scratch = None, None

    def request(self, task, budget=None, packing=None):
        """The body of the request ctxls would send with the task's line blank, or its
        lines `line` to `end` (exclusive) one blank line (a masked body), with `--budget`
        and `--packing` when given."""
        self.open(task["corpus"])
        path = os.path.join(self.root, task["file"])
        original = read(path)
        lines = original.split("\n")
        lines[task["line"] : task.get("end", task["line"] + 1)] = [task["indent"]]
        try:
            with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
                f.write("\n".join(lines))
            position = f"{task['file']}:{task['line'] + 1}:{len(task['indent']) + 1}"
            budget_args = ["--budget", str(budget)] if budget is not None else []
            budget_args += ["--packing", packing] if packing is not None else []
            done = subprocess.run([self.binary, "complete", "--dry-run", "--root", self.root, position, *budget_args],
                                  cwd=self.root, env=self.env, capture_output=True, text=True, timeout=300)
        finally:
            with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
                f.write(original)
        if done.returncode != 0 or "\n\n" not in done.stdout:
            raise RuntimeError(f"ctxls complete --dry-run: exit {done.returncode}: {done.stderr.strip()[-300:]}")
        head, body = done.stdout.split("\n\n", 1)
        if "/infill" not in head:
            raise RuntimeError(f"ctxls did not ask /infill: {head.splitlines()[0]}")
        return json.loads(body)


# ---- the model ----

def infill(server, prefix, suffix, extra, timeout):
    body = {"input_prefix": prefix, "input_suffix": suffix, "input_extra": extra, "n_predict": 48,
            "temperature": 0, "top_k": 1, "seed": 42, "cache_prompt": True, "stream": False, "stop": ["\n"]}
    request = urllib.request.Request(f"{server}/infill", json.dumps(body).encode(), {"content-type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    return answer, time.monotonic() - started


def grammar_literal(text):
    """A GBNF grammar that admits exactly `text`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'root ::= "{escaped}"'


def likelihood(server, prefix, suffix, extra, task, timeout):
    """How likely the model finds the true line: the same prompt (cached by the server
    from the answer just asked), the line and its end forced by a grammar, and the
    model's own log-probability of each forced token (`n_probs` before sampling: the
    unconstrained distribution). Returns the sum over the line's tokens (`line_lp`,
    nats) and over the tokens that overlap a cross-file name of the task (`name_lp`)."""
    truth = task["truth"].strip()
    body = {"input_prefix": prefix, "input_suffix": suffix, "input_extra": extra, "n_predict": 256,
            "temperature": 0, "top_k": 1, "seed": 42, "cache_prompt": True, "stream": False,
            "grammar": grammar_literal(truth + "\n"), "n_probs": 1, "post_sampling_probs": False}
    request = urllib.request.Request(f"{server}/infill", json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    return token_likelihoods(answer.get("completion_probabilities") or [], truth, [t["name"] for t in task["targets"]])


def token_likelihoods(tokens, truth, names):
    data = truth.encode("utf-8")
    spans = [(m.start(), m.end()) for name in names
             for m in re.finditer(rb"(?<![\w$])" + re.escape(name.encode()) + rb"(?![\w$])", data)]
    line_lp = name_lp = 0.0
    offset, count = 0, 0
    for token in tokens:
        size = len(token.get("bytes") or [])
        if offset >= len(data) + 1 or size == 0:
            break  # past the line and its end, or the end of generation
        lp = token.get("logprob", 0.0)
        line_lp += lp
        count += 1
        if any(offset < b and a < offset + size for a, b in spans):
            name_lp += lp
        offset += size
    return {"line_lp": round(line_lp, 4), "name_lp": round(name_lp, 4), "line_tokens": count}


def merged(extra):
    """ctxls's excerpts with the excerpts of one file merged into one file of the
    repository form, in line order (`...` between excerpts that do not touch), the files
    ordered by their best excerpt (best last, as ctxls sends them)."""
    files, rank = {}, {}
    for number, chunk in enumerate(extra):
        match = re.fullmatch(r"(.*) \(lines (\d+)-(\d+)\)", chunk["filename"])
        path, start, end = (match.group(1), int(match.group(2)), int(match.group(3))) if match else (chunk["filename"], 0, 0)
        files.setdefault(path, []).append((start, end, chunk["text"]))
        rank[path] = number
    out = []
    for path in sorted(files, key=lambda p: rank[p]):
        text, last = "", None
        for start, end, chunk in sorted(files[path]):
            if last is not None and start > last + 1:
                text += "...\n"
            text += chunk if chunk.endswith("\n") else chunk + "\n"
            last = max(end, last or 0)
        out.append({"filename": path, "text": text})
    return out


# ---- metrics ----

def levenshtein(a, b):
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def first_line(text):
    return text.split("\n", 1)[0].strip()


def scores(prediction, task):
    truth = task["truth"].strip()
    prediction = first_line(prediction)
    longest = max(len(truth), len(prediction)) or 1
    mine = set(IDENT.findall(strip_strings(prediction))) - KEYWORDS
    theirs = set(IDENT.findall(strip_strings(truth))) - KEYWORDS
    common = len(mine & theirs)
    f1 = 1.0 if not mine and not theirs else (2 * common / (len(mine) + len(theirs)) if common else 0.0)
    named = all(re.search(r"(?<![\w$])" + re.escape(t["name"]) + r"(?![\w$])", prediction) for t in task["targets"])
    return {"em": float(prediction == truth), "es": 1 - levenshtein(prediction, truth) / longest, "id_f1": f1, "named": float(named)}


def found(task, extra):
    """The share of the task's cross-file names whose definition's first line is in the
    context: in a chunk named `path (lines a-b)` that spans it, or in the text of a file
    named by its path alone (the merged form) as a line of its own. The line-level recall
    of a context."""
    hits = 0
    for target in task["targets"]:
        first = target["text"].split("\n")[0].strip()
        for chunk in extra:
            match = re.fullmatch(r"(.*) \(lines (\d+)-(\d+)\)", chunk["filename"])
            if match:
                if match.group(1) == target["file"] and int(match.group(2)) <= target["line"] + 1 <= int(match.group(3)):
                    break
            elif chunk["filename"] == target["file"] and any(l.strip() == first for l in chunk["text"].split("\n")):
                break
        else:
            continue
        hits += 1
    return hits / len(task["targets"])


# ---- run ----

def load_results(path):
    results = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            if line.strip():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a line cut by an interruption
                results[(r["task"], r["condition"], r["model"])] = r
    return results


def run(args):
    # SIGTERM ends the run as Ctrl-C does: the scratch copy is removed, what is written stays.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tasks = [json.loads(l) for l in open(args.tasks, encoding="utf-8") if l.strip()]
    conditions = args.conditions.split(",")
    results = load_results(args.results)
    ctxls = Ctxls(args.bin, args.corpora, args.server)
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
                tables[task["corpus"]] = definition_table(corpus, source_files(corpus))
            table, texts = tables[task["corpus"]]
            prefix, suffix = window(texts[task["file"]], task)
            for condition in todo:
                raw = None
                if condition == "none":
                    extra = []
                elif condition == "ctxls":
                    extra = ctxls.request(task)["input_extra"]
                elif condition == "ctxls-merged":
                    raw = ctxls.request(task)["input_extra"]
                    extra = merged(raw)
                elif condition == "ctxls-best-last":
                    extra = list(reversed(ctxls.request(task)["input_extra"]))
                elif condition == "ctxls-512":
                    extra = ctxls.request(task, 512)["input_extra"]
                elif condition == "ctxls-whole":
                    extra = ctxls.request(task, packing="whole")["input_extra"]
                elif condition == "imports":
                    extra = import_context(task, texts, table)
                elif condition == "oracle":
                    extra = rendered(task["targets"])
                else:
                    raise SystemExit(f"unknown condition {condition}")
                answer, seconds = infill(args.server, prefix, suffix, extra, args.timeout)
                record = {"task": task["id"], "corpus": task["corpus"], "condition": condition, "model": args.model,
                          "prediction": answer.get("content", ""), "truth": task["truth"],
                          "snippets": len(extra), "extra_chars": sum(len(e["text"]) for e in extra),
                          "prompt_tokens": answer.get("tokens_evaluated") or answer.get("timings", {}).get("prompt_n"),
                          "seconds": round(seconds, 2)}
                record.update(scores(record["prediction"], task))
                record.update(likelihood(args.server, prefix, suffix, extra, task, args.timeout))
                record["found"] = found(task, raw if raw is not None else extra)
                record["extra_files"] = [e["filename"] for e in extra]
                out.write(json.dumps(record) + "\n")
                out.flush()
                results[(task["id"], condition, args.model)] = record
            done += 1
            elapsed = time.monotonic() - started
            print(f"[{number}/{len(tasks)}] {task['id']} ({elapsed / done:.0f} s/task)", file=sys.stderr)
    finally:
        out.close()
        ctxls.close()


def recall(args):
    """Without the model: how often each context holds the definitions the line uses
    (`found`), and its size, per corpus; cheap enough for every task."""
    tasks = [json.loads(l) for l in open(args.tasks, encoding="utf-8") if l.strip()]
    tasks.sort(key=lambda t: t["corpus"])  # one index per corpus
    ctxls = Ctxls(args.bin, args.corpora, "http://127.0.0.1:9")
    rows, tables = {}, {}
    try:
        for task in tasks:
            corpus = os.path.join(args.corpora, task["corpus"])
            if task["corpus"] not in tables:
                tables.clear()
                tables[task["corpus"]] = definition_table(corpus, source_files(corpus))
            table, texts = tables[task["corpus"]]
            try:
                extras = {"ctxls": ctxls.request(task)["input_extra"], "imports": import_context(task, texts, table)}
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
                print(f"error: {task['id']}: {error}", file=sys.stderr)
                continue
            for name, extra in extras.items():
                row = rows.setdefault((task["corpus"], name), [0, 0.0, 0, 0])
                row[0] += 1
                row[1] += found(task, extra)
                row[2] += len(extra)
                row[3] += sum(len(e["text"]) for e in extra)
    finally:
        ctxls.close()
    print("| corpus | tasks | ctxls: definition in context | snippets | characters | imports: definition in context | snippets | characters |")
    print("|---|---|---|---|---|---|---|---|")
    totals = {"ctxls": [0, 0.0, 0, 0], "imports": [0, 0.0, 0, 0]}
    for corpus in sorted({c for c, _ in rows}) + ["all"]:
        cells = []
        for name in ("ctxls", "imports"):
            row = totals[name] if corpus == "all" else rows[(corpus, name)]
            if corpus != "all":
                totals[name] = [a + b for a, b in zip(totals[name], row)]
            cells.append(f"{row[1] / row[0]:.3f} | {row[2] / row[0]:.1f} | {row[3] / row[0]:.0f}")
        print(f"| {corpus} | {(totals['ctxls'] if corpus == 'all' else rows[(corpus, 'ctxls')])[0]} | " + " | ".join(cells) + " |")


def paired(a, b):
    """Mean of a - b and the half-width of its 95 % interval (normal approximation)."""
    diffs = [x - y for x, y in zip(a, b)]
    n = len(diffs)
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1)) if n > 1 else 0.0
    return mean, 1.96 * sd / math.sqrt(n), sd


def report(args):
    results = load_results(args.results)
    models = sorted({m for (_, _, m) in results})
    for model in [args.model] if args.model else models:
        by_task = {}
        for (task, condition, m), r in results.items():
            lang = EXTENSIONS.get(os.path.splitext(task.rsplit(":", 1)[0])[1])
            if m == model and (not args.corpora_filter or r["corpus"] in args.corpora_filter) and (not args.lang or lang == args.lang):
                by_task.setdefault(task, {})[condition] = r
        conditions = [c for c in CONDITIONS if any(c in v for v in by_task.values()) and (not args.conditions or c in args.conditions)]
        complete = {t: v for t, v in by_task.items() if all(c in v for c in conditions)}
        n = len(complete)
        if not n:
            continue
        corpora = sorted({r["corpus"] for v in complete.values() for r in v.values()})
        print(f"\nmodel {model}{' (' + args.lang + ')' if args.lang else ''}: {n} tasks with every condition ({', '.join(conditions)}); corpora: {', '.join(corpora)}")
        print(f"| context | exact match | edit similarity | identifier F1 | cross-file name | line log-likelihood | name log-likelihood | definition in context | snippets | prompt tokens | s/request |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for c in conditions:
            rows = [v[c] for v in complete.values()]
            mean = lambda key: sum((r.get(key) or 0) for r in rows) / n
            with_found = [r["found"] for r in rows if "found" in r]
            in_context = f"{sum(with_found) / len(with_found):.3f}" if with_found else "—"
            lp = lambda key: f"{sum(r[key] for r in rows) / n:.2f}" if all(key in r for r in rows) else "—"
            print(f"| {c} | {mean('em'):.3f} | {mean('es'):.3f} | {mean('id_f1'):.3f} | {mean('named'):.3f} | {lp('line_lp')} | {lp('name_lp')} | {in_context} | "
                  f"{mean('snippets'):.1f} | {mean('prompt_tokens'):.0f} | {mean('seconds'):.1f} |")
        pairs = [(x, y) for x, y in [("ctxls", "none"), ("ctxls-merged", "none"), ("ctxls-512", "none"), ("imports", "none"),
                                     ("oracle", "none"), ("ctxls-merged", "ctxls"), ("ctxls-512", "ctxls"),
                                     ("ctxls-whole", "none"), ("ctxls-whole", "ctxls"), ("ctxls-whole", "imports"), ("oracle", "ctxls-whole"), ("ctxls-best-last", "none"),
                                     ("ctxls-best-last", "ctxls"), ("ctxls", "imports"),
                                     ("oracle", "ctxls")]
                 if x in conditions and y in conditions]
        with_lp = all("line_lp" in r for v in complete.values() for r in v.values())
        print(f"\npaired differences, mean ± half-width of the 95 % interval (normal approximation); n for ±0.02")
        keys = ("em", "es", "id_f1", "named") + (("line_lp", "name_lp") if with_lp else ())
        print("| difference | exact match | n for ±0.02 | edit similarity | identifier F1 | cross-file name |"
              + (" line log-likelihood | name log-likelihood |" if with_lp else ""))
        print("|---|---|---|---|---|---|" + ("---|---|" if with_lp else ""))
        for x, y in pairs:
            cells = []
            for key in keys:
                mean, half, sd = paired([v[x][key] for v in complete.values()], [v[y][key] for v in complete.values()])
                cells.append(f"{mean:+.3f} ± {half:.3f}")
                if key == "em":
                    cells.append(f"{math.ceil((1.96 * sd / 0.02) ** 2)}" if sd > 0 else "— (no task differs)")
            print(f"| {x} − {y} | " + " | ".join(cells) + " |")


def self_test():
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "ab") == 2
    task = {"truth": "let x = Foo::bar(1);", "targets": [{"name": "Foo"}]}
    s = scores("let x = Foo::bar(1);\nmore", task)
    assert s["em"] == 1.0 and s["es"] == 1.0 and s["id_f1"] == 1.0 and s["named"] == 1.0, s
    s = scores("let y = Baz::bar(1);", task)
    assert s["em"] == 0.0 and s["named"] == 0.0 and abs(s["id_f1"] - 1 / 3) < 1e-9, s
    lines = ["pub fn a(x: u32) -> u32 {", "    x", "}", "pub struct B;", "type C = (u8,", "  u8);"]
    assert definition_names(lines, "rust") == [("a", 0, True), ("B", 3, True), ("C", 4, True)]
    rust = ["pub enum K {", "    Io(u8),", "    Eof,", "}", "struct P {", "    pub x: u32,", "}", "fn f() {", "    fn g() {}",
            "}", "cfg_net! {", "    pub struct T;", "}", "macro_rules! m {", "    ($x:ident) => { fn $x() {} };", "}"]
    assert definition_names(rust, "rust") == [("K", 0, True), ("Io", 1, True), ("Eof", 2, True), ("P", 4, True), ("x", 5, False),
                                              ("f", 7, True), ("g", 8, False), ("T", 11, True), ("m", 13, True)], definition_names(rust, "rust")
    assert definition_end(lines, 0) == 2 and definition_end(lines, 3) == 3 and definition_end(lines, 4) == 5
    ts = ["export function f() {", "  const local = 1;", "}", "export const g = () => 1;", "class H {}"]
    assert definition_names(ts, "ts") == [("f", 0, True), ("local", 1, False), ("g", 3, True), ("H", 4, True)], definition_names(ts, "ts")
    ts = ["export class S {", "  static EMPTY = 1;", "  m(a: number): void {", "    type L = number;", "  }", "}",
          "function h() {", "  type State = number;", "}", "export namespace N {", "  export const v = 1;", "}"]
    assert definition_names(ts, "ts") == [("S", 0, True), ("EMPTY", 1, True), ("m", 2, True), ("L", 3, False), ("h", 6, True),
                                          ("State", 7, False), ("N", 9, True), ("v", 10, True)], definition_names(ts, "ts")
    assert strip_strings('f("a//b", x) // c') == "f(0, x) " and strip_strings('  "loop found: \\') == "  "
    assert foreign_path("    mem::forget(this);", "forget", {"src/lib.rs": ""})
    assert not foreign_path("    wire::forget(this);", "forget", {"src/wire.rs": ""})
    assert not foreign_path("    x.forget();", "forget", {"src/lib.rs": ""})
    rust = "use crate::a::{B, c::D as E, self};\nuse std::io;\npub use x::*;\n"
    assert imported_names(rust, "rust") == ["B", "D", "a", "io"], imported_names(rust, "rust")
    js = "import { A, B as C } from './x';\nimport D, { type E } from \"y\";\nimport * as F from 'z';\n"
    assert imported_names(js, "ts") == ["A", "B", "D", "E"], imported_names(js, "ts")
    texts = {"a.rs": "fn main() {\n    let q = 1;\n    helper(q);\n}\n" + "\n" * 10, "b.rs": "pub fn helper(q: u32) {\n}\n"}
    texts["a.rs"] = "// top\n" * 6 + texts["a.rs"]
    table = {"helper": {"b.rs": [0]}, "main": {"a.rs": [0]}}
    tasks = file_tasks("c", "a.rs", texts, table)
    assert [(t["line"], t["truth"], t["targets"][0]["text"]) for t in tasks] == [(8, "helper(q);", "pub fn helper(q: u32) {\n}")], tasks
    texts["a.rs"] = texts["a.rs"].replace("// top\n", "// helper\n", 1)
    assert file_tasks("c", "a.rs", texts, table) == [], "a name already in the prefix makes no task"
    prefix, suffix = window("a\nb\n  c\nd\n", {"line": 2, "indent": "  "})
    assert (prefix, suffix) == ("a\nb\n  ", "\nd\n")
    extra = rendered([{"file": "b.rs", "line": 0, "end_line": 1, "text": "pub fn helper(q: u32) {\n}"}])
    assert extra[0]["filename"] == "b.rs (lines 1-2)" and found(tasks[0], extra) == 1.0 and found(tasks[0], []) == 0.0
    forced = [{"bytes": list(b"x = "), "logprob": -1.0}, {"bytes": list(b"Foo"), "logprob": -2.0},
              {"bytes": list(b"::new()\n"), "logprob": -0.5}, {"bytes": [], "logprob": -9.0}]
    assert token_likelihoods(forced, "x = Foo::new()", ["Foo"]) == {"line_lp": -3.5, "name_lp": -2.0, "line_tokens": 3}
    assert grammar_literal('a "b" \\ c') == 'root ::= "a \\"b\\" \\\\ c"'
    joined = merged([{"filename": "a.rs (lines 10-11)", "text": "x\ny"}, {"filename": "b.rs (lines 1-1)", "text": "z\n"},
                     {"filename": "a.rs (lines 1-2)", "text": "p\nq\n"}])
    assert joined == [{"filename": "b.rs", "text": "z\n"}, {"filename": "a.rs", "text": "p\nq\n...\nx\ny\n"}], joined
    assert found({"targets": [{"file": "a.rs", "line": 10, "text": "x\n"}]}, joined) == 1.0
    assert found({"targets": [{"file": "b.rs", "line": 10, "text": "x\n"}]}, joined) == 0.0
    mean, half, _ = paired([1, 1, 0, 1], [0, 1, 0, 0])
    assert abs(mean - 0.5) < 1e-9 and half > 0
    print("eval_gen.py: self-test passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true")
    sub = parser.add_subparsers(dest="command")
    t = sub.add_parser("tasks", help="write the line tasks of the corpora as JSONL")
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
    r.add_argument("--conditions", default=",".join(CONDITIONS))
    r.add_argument("--timeout", type=float, default=600)
    c = sub.add_parser("recall", help="without the model: how often each context holds the line's definitions")
    c.add_argument("tasks")
    c.add_argument("corpora")
    c.add_argument("--bin", required=True)
    p = sub.add_parser("report", help="print the tables")
    p.add_argument("--results", required=True)
    p.add_argument("--model", default="")
    p.add_argument("--corpora-filter", default="")
    p.add_argument("--conditions", default="", help="only these (the tasks that have them all)")
    p.add_argument("--lang", default="", choices=["", "rust", "ts"], help="only the tasks in files of this language")
    args = parser.parse_args()
    if args.self_test:
        self_test()
    elif args.command == "tasks":
        names = args.corpora_list.split(",") if args.corpora_list else sorted(os.listdir(args.corpora))
        for task in make_tasks(args.corpora, names, args.limit):
            print(json.dumps(task))
    elif args.command == "run":
        run(args)
    elif args.command == "recall":
        recall(args)
    elif args.command == "report":
        args.corpora_filter = set(filter(None, args.corpora_filter.split(",")))
        args.conditions = [c for c in args.conditions.split(",") if c]
        report(args)
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
