#!/usr/bin/env python3
"""The next-edit location yardstick (issue 21, item 4): no model needed.

From real histories: a commit that changes 2-10 separate places in Rust or TypeScript
files. Check out its parent, apply the first place's change as the working tree's edit,
run `ctxls next-edit --locations-only --format json`, and score whether any remaining
place of the commit is in the top 1 / top 5. Two rules: strict (same file, within 3
lines) and the issue's (strict, or inside the same definition: the innermost definition
holding the candidate's line, from `ctxls outline` of the file with the first change
applied, also holds a line of a remaining place innermost; impl blocks, modules,
namespaces and members do not count as definitions). Two baselines are scored the same
ways: the nearest other places in the same file, and `git grep -w` of the identifiers
the first change touched.

    yardstick.py select GIT_DIR NAME [--max N] [--skip N]   commits by the rule, as list lines
    yardstick.py run --ctxls BIN --commits commits.txt NAME=GIT_DIR ... [--work DIR]
                     [--outline BIN] [--results FILE]

Selection rule (`select`), walking first-parent history back from the snapshot's HEAD:
not a merge; every changed file with a code extension (.rs .ts .tsx) is modified (no file
added, deleted or renamed); its zero-context hunks, with hunks less than 4 lines apart in
one file merged into one place, make 2 to 10 places; the first N such commits are taken
(after the first --skip such commits: `--skip 25` gives the next, held-out list).
Nothing is tuned to them: the list is what the rule gives.

Repositories are never copied into ctxls: GIT_DIR is any clone (bare is fine); `run`
makes a shared clone under --work and checks commits out there.
"""

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CODE = ('.rs', '.ts', '.tsx')
GREP_SPECS = ['*.rs', '*.ts', '*.tsx', '*.js', '*.jsx', '*.mjs', '*.cjs']
MERGE_GAP = 4
NEAR = 3
KEYWORDS = set("""
as async await break const continue crate dyn else enum extern false fn for if impl in let loop
match mod move mut pub ref return self Self static struct super trait true type unsafe use where
while yield abstract any boolean case catch class debugger declare default delete do export
extends finally from function get implements import instanceof interface keyof let namespace
never new null number object of private protected public readonly require set string symbol
this throw try typeof undefined unknown var void with Some None Ok Err Option Result String Vec
str u8 u16 u32 u64 usize i8 i16 i32 i64 isize f32 f64 bool char
""".split())


def git(git_dir, *args, work_tree=None, check=True):
    cmd = ['git', '--git-dir', git_dir]
    if work_tree:
        cmd += ['--work-tree', work_tree]
    # A loaded machine sometimes fails a fork or a lock: a second and third try.
    for attempt in range(3):
        out = subprocess.run(cmd + list(args), capture_output=True)
        if out.returncode == 0 or not check:
            return out.stdout.decode('utf-8', 'replace')
        time.sleep(1 + attempt)
    raise subprocess.CalledProcessError(out.returncode, cmd + list(args), out.stdout, out.stderr)


HUNK = re.compile(r'^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@')


def hunks_of(diff_text):
    """Zero-context hunks: (path, old_start, old_count, new_start, new_count, old, new)."""
    hunks, path, current = [], None, None
    for line in diff_text.split('\n'):
        if line.startswith('diff --git'):
            path = None
            current = None
        elif line.startswith('+++ '):
            path = line[6:] if line.startswith('+++ b/') else None
        elif line.startswith('@@') and path:
            m = HUNK.match(line)
            if not m:
                continue
            current = [path, int(m.group(1)), int(m.group(2) or 1), int(m.group(3)), int(m.group(4) or 1), [], []]
            hunks.append(current)
        elif current is not None and line.startswith('-') and not line.startswith('---'):
            current[5].append(line[1:])
        elif current is not None and line.startswith('+') and not line.startswith('+++'):
            current[6].append(line[1:])
    return hunks


def old_range(h):
    """1-based inclusive old lines of a hunk (an insertion: the lines around it)."""
    _, start, count, *_ = h
    if count == 0:
        return (max(start, 1), start + 1)
    return (start, start + count - 1)


def places_of(hunks):
    """Hunks grouped into places: one file, less than MERGE_GAP lines apart."""
    places = []
    for h in hunks:
        if places and places[-1][-1][0] == h[0] and old_range(h)[0] - old_range(places[-1][-1])[1] < MERGE_GAP:
            places[-1].append(h)
        else:
            places.append([h])
    return places


def commit_places(git_dir, sha):
    """The commit's places when it meets the rule, else None."""
    parents = git(git_dir, 'rev-list', '--parents', '-n', '1', sha).split()
    if len(parents) != 2:
        return None
    status = git(git_dir, 'diff', '--name-status', '--no-renames', parents[1], sha).split('\n')
    for line in status:
        parts = line.split('\t')
        if len(parts) == 2 and parts[1].endswith(CODE) and parts[0] != 'M':
            return None
    diff = git(git_dir, 'diff', '-U0', '--no-renames', '--no-ext-diff', '--no-color', parents[1], sha, '--', *['*' + e for e in CODE])
    places = places_of(hunks_of(diff))
    if not 2 <= len(places) <= 10:
        return None
    return parents[1], places


def select(args):
    head = git(args.git_dir, 'rev-parse', 'HEAD').strip()
    which = f'first {args.max}' if not args.skip else f'{args.max} after the first {args.skip}'
    print(f'# {args.name}: {which} commits by the rule, first-parent back from {head}')
    taken, skipped = 0, 0
    for sha in git(args.git_dir, 'rev-list', '--first-parent', '--no-merges', 'HEAD').split():
        if commit_places(args.git_dir, sha):
            if skipped < args.skip:
                skipped += 1
                continue
            print(f'{args.name} {sha}')
            taken += 1
            if taken >= args.max:
                break


def apply_place(work, place):
    """Applies one place's hunks to its file in the working tree."""
    path = os.path.join(work, place[0][0])
    with open(path, encoding='utf-8', errors='surrogateescape', newline='') as f:
        lines = f.read().split('\n')
    for _, old_start, old_count, _, _, _, new in sorted(place, key=lambda h: -h[1]):
        start = old_start if old_count == 0 else old_start - 1
        lines[start:start + old_count] = new
    with open(path, 'w', encoding='utf-8', errors='surrogateescape', newline='') as f:
        f.write('\n'.join(lines))


def targets_after_first(places):
    """The remaining places' line ranges in the text with the first place applied."""
    first = places[0]
    delta = sum(h[4] - h[2] for h in first)
    first_end = old_range(first[-1])[1]
    out = []
    for place in places[1:]:
        start, end = old_range(place[0])[0], old_range(place[-1])[1]
        if place[0][0] == first[0][0] and start > first_end:
            start, end = start + delta, end + delta
        out.append((place[0][0], start, end))
    return out


def first_new_range(place):
    start = place[0][3]
    end = place[-1][3] + max(place[-1][4], 1) - 1
    return (start, end)


def hit(candidates, targets, k):
    for file, line, end in candidates[:k]:
        for t_file, t_start, t_end in targets:
            if file == t_file and line <= t_end + NEAR and end >= t_start - NEAR:
                return True
    return False


# Kinds that are scopes rather than definitions, or too small to hold a place.
NOT_DEFINITIONS = {'impl', 'module', 'namespace', 'field', 'variant', 'property'}


def outlines(ctxls, work, files):
    """Per file (relative path): its definitions' 1-based inclusive line ranges."""
    files = sorted(f for f in set(files) if f.endswith(CODE) and os.path.isfile(os.path.join(work, f)))
    if not files:
        return {}
    out = subprocess.run([ctxls, 'outline', '--json'] + [os.path.join(work, f) for f in files], capture_output=True)
    defs = {}
    for line, rel in zip(out.stdout.decode('utf-8', 'replace').splitlines(), files):
        item = json.loads(line)
        defs[rel] = [(d['line'], d['end_line']) for d in item['definitions'] if d['kind'] not in NOT_DEFINITIONS]
    return defs


def innermost(defs, line):
    holding = [d for d in defs if d[0] <= line <= d[1]]
    return min(holding, key=lambda d: d[1] - d[0]) if holding else None


def hit_lenient(candidates, targets, k, defs):
    """`hit`, or a candidate inside the same (innermost) definition as a remaining place."""
    if hit(candidates, targets, k):
        return True
    for file, line, end in candidates[:k]:
        d = innermost(defs.get(file, []), line)
        if d is None:
            continue
        for t_file, t_start, t_end in targets:
            if t_file == file and any(innermost(defs[file], l) == d for l in range(max(t_start, d[0]), min(t_end, d[1]) + 1)):
                return True
    return False


def nearest_baseline(place, limit):
    """Windows of 2*NEAR+1 lines tiling outward from the first change, below first."""
    path = place[0][0]
    start, end = first_new_range(place)
    out, step = [], 2 * NEAR + 1
    for i in range(limit):
        below = end + NEAR + 1 + i * step
        above = start - NEAR - 1 - i * step
        out.append((path, below, below))
        if above >= 1:
            out.append((path, above, above))
    return out[:limit]


def grep_baseline(work, place, limit):
    """`git grep -w` of the identifiers (two characters or more, not keywords) the first
    change touched, the same file's hits nearest first, then the other files in path
    order."""
    ident = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
    old = {w for h in place for l in h[5] for w in ident.findall(l) if len(w) > 1} - KEYWORDS
    new = {w for h in place for l in h[6] for w in ident.findall(l) if len(w) > 1} - KEYWORDS
    words = (old ^ new) or (old | new)
    if not words:
        return []
    args = ['git', '-C', work, 'grep', '-n', '-w', '-I', '--untracked']
    for w in sorted(words):
        args += ['-e', w]
    out = subprocess.run(args + ['--'] + GREP_SPECS, capture_output=True).stdout.decode('utf-8', 'replace')
    path = place[0][0]
    start, end = first_new_range(place)
    same, other = [], []
    for line in out.split('\n'):
        parts = line.split(':', 2)
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        file, n = parts[0], int(parts[1])
        if file == path:
            if start <= n <= end:
                continue
            same.append((min(abs(n - start), abs(n - end)), (file, n, n)))
        else:
            other.append((file, n, n))
    same.sort()
    return ([c for _, c in same] + other)[:limit]


def run(args):
    if args.report:
        with open(args.results) as f:
            report(json.load(f))
        return
    repos = dict(spec.split('=', 1) for spec in args.repos)
    commits = []
    with open(args.commits) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                name, sha = line.split()
                if name in repos:
                    commits.append((name, sha))
    work_root = args.work or tempfile.mkdtemp(prefix='next-edit-yardstick-')
    results = []
    for name in repos:
        git_dir = repos[name]
        work = os.path.join(work_root, name.replace('/', '+'))
        cache = os.path.join(work_root, 'cache-' + name.replace('/', '+'))
        if not os.path.isdir(work):
            subprocess.run(['git', 'clone', '-q', '--shared', '--no-checkout', git_dir, work], check=True)
        for repo, sha in commits:
            if repo != name:
                continue
            found = commit_places(git_dir, sha)
            if not found:
                print(f'{name} {sha[:10]}: no longer meets the rule, skipped', file=sys.stderr)
                continue
            parent, places = found
            subprocess.run(['git', '-C', work, 'checkout', '-q', '-f', '--detach', parent], check=True)
            subprocess.run(['git', '-C', work, 'clean', '-q', '-f', '-d'], check=True)
            # The index is warm for the parent (as in an editor session); not timed.
            subprocess.run([args.ctxls, '--cache-dir', cache, 'index', '--root', work], capture_output=True, check=True)
            apply_place(work, places[0])
            targets = targets_after_first(places)
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run(
                [args.ctxls, '--cache-dir', cache, 'next-edit', '--root', work, '--locations-only', '--format', 'json', '--limit', '5'],
                capture_output=True,
            )
            wall_ms = (time.perf_counter() - started) * 1000
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_ms = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
            if proc.returncode != 0:
                print(f'{name} {sha[:10]}: ctxls failed: {proc.stderr.decode()[:300]}', file=sys.stderr)
                continue
            out = json.loads(proc.stdout)
            ours = [(c['file'], c['line'], c['end_line']) for c in out['candidates']]
            near = nearest_baseline(places[0], 5)
            grep = grep_baseline(work, places[0], 5)
            defs = outlines(args.outline or args.ctxls, work, [t[0] for t in targets])
            row = {
                'repo': name, 'sha': sha, 'places': len(places), 'wall_ms': wall_ms, 'cpu_ms': cpu_ms, 'ctxls_ms': out.get('elapsed_ms', 0.0), 'rank_ms': out.get('rank_ms', 0.0),
                'candidates': len(ours),
                'ctxls': (hit(ours, targets, 1), hit(ours, targets, 5)),
                'nearest': (hit(near, targets, 1), hit(near, targets, 5)),
                'grep': (hit(grep, targets, 1), hit(grep, targets, 5)),
                'lenient': {
                    m: (hit_lenient(c, targets, 1, defs), hit_lenient(c, targets, 5, defs))
                    for m, c in (('ctxls', ours), ('nearest', near), ('grep', grep))
                },
                'targets': targets, 'first': [places[0][0][0], *first_new_range(places[0])],
                'lists': {'ctxls': ours, 'nearest': near, 'grep': grep},
                'reasons': [c['reason'] for c in out['candidates']],
                'top_reason': out['candidates'][0]['reason'] if out['candidates'] else None,
            }
            results.append(row)
            if args.verbose:
                print(json.dumps(row), file=sys.stderr)
        subprocess.run(['git', '-C', work, 'checkout', '-q', '-f', '--detach', 'HEAD'], check=False)
    if args.results:
        with open(args.results, 'w') as f:
            json.dump(results, f, indent=1)
    report(results)
    if not args.work:
        shutil.rmtree(work_root, ignore_errors=True)


def report(results):
    for rule in ('strict', 'lenient'):
        print(f'\n{rule}: ' + ('same file, within 3 lines' if rule == 'strict' else 'same file, within 3 lines, or inside the same definition'))
        table(results, rule)


def table(results, rule):
    def rate(rows, method, k):
        pick = (lambda r: r[method]) if rule == 'strict' else (lambda r: r['lenient'][method])
        return sum(pick(r)[k] for r in rows) / len(rows) if rows else 0.0

    print('| repository | commits | ctxls @1 | ctxls @5 | nearest @1 | nearest @5 | grep -w @1 | grep -w @5 | p50 ms (process) | p50 ms CPU (process) | p50 ms (in ctxls) | p50 ms (ranking) |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|')
    names = sorted({r['repo'] for r in results})
    for name in names + ['all']:
        rows = results if name == 'all' else [r for r in results if r['repo'] == name]
        if not rows:
            continue
        cells = [f'{rate(rows, m, k):.2f}' for m in ('ctxls', 'nearest', 'grep') for k in (0, 1)]
        wall = statistics.median(r['wall_ms'] for r in rows)
        cpu = statistics.median(r.get('cpu_ms', float('nan')) for r in rows)
        inner = statistics.median(r['ctxls_ms'] for r in rows)
        ranking = statistics.median(r['rank_ms'] for r in rows)
        label = f'**{name}**' if name == 'all' else name
        print(f'| {label} | {len(rows)} | ' + ' | '.join(cells) + f' | {wall:.0f} | {cpu:.0f} | {inner:.0f} | {ranking:.1f} |')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    s = sub.add_parser('select')
    s.add_argument('git_dir')
    s.add_argument('name')
    s.add_argument('--max', type=int, default=25)
    s.add_argument('--skip', type=int, default=0, help='leave out the first N commits that meet the rule')
    r = sub.add_parser('run')
    r.add_argument('--ctxls', required=True)
    r.add_argument('--commits', required=True)
    r.add_argument('--work', help='keep the clones and caches here (default: a temporary directory, removed)')
    r.add_argument('--results', help='write the per-commit rows as JSON here')
    r.add_argument('--outline', help='the ctxls binary whose `outline` gives the definitions (default: --ctxls)')
    r.add_argument('--report', action='store_true', help='only print the tables of --results')
    r.add_argument('--verbose', action='store_true')
    r.add_argument('repos', nargs='*', metavar='NAME=GIT_DIR')
    args = parser.parse_args()
    select(args) if args.command == 'select' else run(args)


if __name__ == '__main__':
    main()
