# SPDX-License-Identifier: MIT
"""Strict reader of the Prometheus text exposition format 0.0.4.

Usage: promparse.py FILE   (- for stdin)
Prints one JSON object {"series": {"name{l=\"v\",...}": value, ...},
"types": {family: type}} and exits 0, or prints what is wrong and exits 1.

Checks: every line is a comment (# HELP / # TYPE / other), a sample or
empty; names and label names are valid; label values use only the \\\\, \\"
and \\n escapes; values are floats (or +Inf/-Inf/NaN); one HELP and one TYPE
per family, before its samples; samples of a family are contiguous; no
series twice; counters end in _total and are >= 0; a histogram has
_bucket{le=...} series ascending in le, cumulative (non-decreasing), ending
in le="+Inf", equal to _count, and a _sum; the text ends with a newline.
"""
import json
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*\Z')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_value(s, where):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', s):
        raise Bad("%s: value %r is not a float" % (where, s))
    return float(s)


def parse_labels(s, where):
    """s is the text between { and }; returns a list of (name, value)."""
    out = []
    i = 0
    while i < len(s):
        m = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', s[i:])
        if not m:
            raise Bad("%s: bad label at %r" % (where, s[i:]))
        name = m.group(1)
        i += m.end()
        val = []
        while True:
            if i >= len(s):
                raise Bad("%s: unterminated label value" % where)
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    raise Bad("%s: bad escape in label value" % where)
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise Bad("%s: newline in label value" % where)
            else:
                val.append(c)
                i += 1
        if any(n == name for n, _ in out):
            raise Bad("%s: label %s twice" % (where, name))
        out.append((name, "".join(val)))
        if i < len(s):
            if s[i] != ',':
                raise Bad("%s: expected , between labels" % where)
            i += 1
            if i == len(s):
                break  # a trailing comma is allowed
    return out


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) in (
                "histogram", "summary"):
            return name[:-len(suffix)]
    return name


def key(name, labels):
    if not labels:
        return name
    return name + "{" + ",".join('%s="%s"' % (n, v.replace('\\', '\\\\')
                                              .replace('"', '\\"')
                                              .replace('\n', '\\n'))
                                 for n, v in labels) + "}"


def parse(text):
    if text and not text.endswith("\n"):
        raise Bad("text does not end with a newline")
    helps, types, series = {}, {}, {}
    seen_samples = set()   # families that have had samples
    closed = set()         # families whose sample block ended
    current = None
    hist = {}              # family -> {"buckets": [(le, v)], ...}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % n
        if line == "":
            continue
        if line.startswith("#"):
            m = re.match(r'# (HELP|TYPE) (\S+)(?: (.*))?\Z', line)
            if not m:
                continue  # a plain comment
            kind, fam, rest = m.group(1), m.group(2), m.group(3) or ""
            if not NAME.match(fam):
                raise Bad("%s: bad metric name %r" % (where, fam))
            if fam in seen_samples:
                raise Bad("%s: %s for %s after its samples" % (where, kind, fam))
            if kind == "HELP":
                if fam in helps:
                    raise Bad("%s: second HELP for %s" % (where, fam))
                helps[fam] = rest
            else:
                if fam in types:
                    raise Bad("%s: second TYPE for %s" % (where, fam))
                if rest not in TYPES:
                    raise Bad("%s: unknown type %r" % (where, rest))
                types[fam] = rest
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?\Z',
                     line)
        if not m:
            raise Bad("%s: not a sample: %r" % (where, line))
        name, labels = m.group(1), parse_labels(m.group(3) or "", where)
        value = parse_value(m.group(4), where)
        fam = family_of(name, types)
        if fam not in types:
            raise Bad("%s: sample of %s without a TYPE" % (where, fam))
        if fam not in helps:
            raise Bad("%s: sample of %s without a HELP" % (where, fam))
        if fam != current:
            if fam in closed:
                raise Bad("%s: samples of %s are not together" % (where, fam))
            if current is not None:
                closed.add(current)
            current = fam
        seen_samples.add(fam)
        k = key(name, labels)
        if k in series:
            raise Bad("%s: series %s twice" % (where, k))
        series[k] = value
        t = types[fam]
        if t == "counter":
            if not name.endswith("_total"):
                raise Bad("%s: counter %s does not end in _total" % (where, name))
            if not value >= 0:
                raise Bad("%s: counter %s is negative" % (where, name))
        if t == "histogram":
            h = hist.setdefault(fam, {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                les = [v for n_, v in labels if n_ == "le"]
                if len(les) != 1:
                    raise Bad("%s: bucket without le" % where)
                h["buckets"].append((parse_value(les[0], where), value))
            elif name == fam + "_sum":
                h["sum"] = value
            elif name == fam + "_count":
                h["count"] = value
            else:
                raise Bad("%s: %s is not part of histogram %s" % (where, name, fam))
    for fam, h in hist.items():
        b = h["buckets"]
        if not b or b[-1][0] != math.inf:
            raise Bad("histogram %s: last bucket is not le=\"+Inf\"" % fam)
        for (l1, v1), (l2, v2) in zip(b, b[1:]):
            if not l1 < l2:
                raise Bad("histogram %s: le not ascending" % fam)
            if not v1 <= v2:
                raise Bad("histogram %s: buckets not cumulative" % fam)
        if h["count"] is None or h["sum"] is None:
            raise Bad("histogram %s: _count or _sum missing" % fam)
        if h["count"] != b[-1][1]:
            raise Bad("histogram %s: _count %s != +Inf bucket %s"
                      % (fam, h["count"], b[-1][1]))
    for fam in types:
        if fam not in helps:
            raise Bad("%s has a TYPE and no HELP" % fam)
    return {"series": series, "types": types}


def main():
    src = sys.stdin if len(sys.argv) < 2 or sys.argv[1] == "-" else \
        open(sys.argv[1], encoding="utf-8")
    text = src.read()
    try:
        out = parse(text)
    except Bad as e:
        print("promparse: %s" % e)
        return 1
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
