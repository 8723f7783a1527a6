#!/usr/bin/env python3
"""Generates Folio's Unicode NFC tables and their test data from Python's own `unicodedata`.

    python3 scripts/gen_unicode_nfc.py

writes
  managed/Folio.Core/Text/UnicodeNfcData.cs   the tables UnicodeNfc reads (compact, generated; do not edit)
  tests/fixtures/unicode/nfc_single.txt       every code point whose NFC is not itself, with its NFC
  tests/fixtures/unicode/nfc_sequences.txt    NormalizationTest.txt-style sequences with their NFC

and reads tests/fixtures/unicode/hf_tokenizers_nfc_skew.txt (made by tests/fixtures/make_hf_nfc_skew.mjs): the
combining marks and compositions that Hugging Face tokenizers' NFC (older Unicode data) does not know. Those code
points get the flag NewerThanHfTokenizers; UnicodeNfc.NormalizeAsHfTokenizers treats them as class 0 (combining
class 0, NFC_QC=Yes, no decomposition), as tokenizers does.

The Unicode version is the one of the Python that runs it (`unicodedata.unidata_version`); it is written into
every output. All data comes from `unicodedata.decomposition`, `.combining` and `.normalize('NFC', ...)`:
  - canonical decomposition mappings (one level; UnicodeNfc recurses; Hangul syllables are algorithmic);
  - canonical combining classes;
  - the primary composites: the two-code-point canonical decompositions whose NFC is the code point itself
    (that excludes exactly the composition exclusions, singletons and non-starter decompositions);
  - the NFC quick check: No = a code point whose NFC is not itself, Maybe = the second half of a primary composite
    (plus the Hangul medial vowels and final consonants, which compose algorithmically).
"""
import os
import random
import sys
import unicodedata as ud

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_CS = os.path.join(ROOT, "managed", "Folio.Core", "Text", "UnicodeNfcData.cs")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "unicode")

S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
S_COUNT = L_COUNT * V_COUNT * T_COUNT

QC_NO, QC_MAYBE, HAS_DECOMPOSITION, NEWER_THAN_HF = 1, 2, 4, 8
HF_SKEW = os.path.join(FIXTURES, "hf_tokenizers_nfc_skew.txt")


def code_points():
    return (cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)


def nfc(cps):
    return [ord(c) for c in ud.normalize("NFC", "".join(map(chr, cps)))]


def build():
    decomposition, ccc, qc_no = {}, {}, set()
    for cp in code_points():
        c = chr(cp)
        d = ud.decomposition(c)
        if d and not d.startswith("<"):   # canonical only: compatibility mappings start with a <tag>
            decomposition[cp] = [int(x, 16) for x in d.split()]
        if ud.combining(c):
            ccc[cp] = ud.combining(c)
        if ud.normalize("NFC", c) != c:
            qc_no.add(cp)
    assert all(1 <= len(v) <= 2 for v in decomposition.values()), "a canonical mapping longer than two"
    assert not any(S_BASE <= cp < S_BASE + S_COUNT for cp in decomposition), "Hangul syllables are algorithmic"
    composites = {(v[0], v[1]): cp for cp, v in decomposition.items() if len(v) == 2 and cp not in qc_no}
    assert all(a not in ccc for a, _ in composites), "a primary composite starting with a non-starter"
    qc_maybe = {b for _, b in composites} | set(range(V_BASE, V_BASE + V_COUNT)) | set(range(T_BASE + 1, T_BASE + T_COUNT))
    assert not qc_maybe & qc_no
    return decomposition, ccc, qc_no, qc_maybe, composites


def read_hf_skew(ccc, composites):
    """The code points tokenizers' NFC does not know, of those this Unicode version gives properties: marks with a
    class here, and both the second half and the composite of each composition it does not make."""
    unknown = set()
    with open(HF_SKEW, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            kind, *fields = line.strip().split(";")
            if kind == "mark":
                cp = int(fields[0], 16)
                if cp in ccc:
                    unknown.add(cp)
            elif kind == "pair":
                a, b = (int(x, 16) for x in fields[0].split())
                if (a, b) in composites:
                    # The second half must take part in no composition tokenizers knows, or the flag would lose it.
                    assert all(p in [(a, b)] or p[1] != b for p in composites), f"U+{b:04X} also ends a known pair"
                    unknown |= {b, composites[(a, b)]}
    return unknown


def two_level(values, shift):
    """Splits values into blocks of 2**shift, shares equal blocks: (index per block, concatenated unique blocks)."""
    size = 1 << shift
    values = values + [0] * (-len(values) % size)   # whole blocks only
    blocks, index, data = {}, [], []
    for start in range(0, len(values), size):
        block = tuple(values[start:start + size])
        if block not in blocks:
            blocks[block] = len(blocks)
            data.extend(block)
        index.append(blocks[block])
    return index, data


def rows(values, fmt, per_line):
    items = [fmt(v) for v in values]
    return "\n".join("        " + ", ".join(items[i:i + per_line]) + "," for i in range(0, len(items), per_line))


def write_tables(decomposition, ccc, qc_no, qc_maybe, composites, hf_unknown):
    interesting = set(decomposition) | set(ccc) | qc_no | qc_maybe
    # Below the first code point with a combining class, a No or a Maybe, every code point is NFC on its own
    # and blocks nothing: the fast path skips those without a lookup.
    quick_yes_below = min(set(ccc) | qc_no | qc_maybe)
    limit = max(interesting) + 1
    # Property classes: each distinct (ccc, flags) gets one byte; the two-level table maps code points to it.
    props = [(0, 0)] * limit
    for cp in interesting:
        flags = (QC_NO if cp in qc_no else 0) | (QC_MAYBE if cp in qc_maybe else 0) | (HAS_DECOMPOSITION if cp in decomposition else 0) \
            | (NEWER_THAN_HF if cp in hf_unknown else 0)
        props[cp] = (ccc.get(cp, 0), flags)
    classes = sorted(set(props))
    assert classes[0] == (0, 0) and len(classes) <= 256
    class_of = {p: i for i, p in enumerate(classes)}
    values = [class_of[p] for p in props]
    best = None
    for shift in range(4, 10):
        index, data = two_level(values, shift)
        index_bytes = len(index) * (1 if max(index) < 256 else 2)
        if best is None or index_bytes + len(data) < best[0]:
            best = (index_bytes + len(data), shift, index, data)
    _, shift, index, data = best
    limit = len(index) << shift
    index_type = "byte" if max(index) < 256 else "ushort"

    keys = sorted(decomposition)
    pairs = sorted(composites)
    version = ud.unidata_version
    text = f"""// <auto-generated>
// Generated by scripts/gen_unicode_nfc.py from Python {sys.version.split()[0]}'s unicodedata, Unicode {version}.
// Do not edit; rerun the generator. {len(keys)} canonical decompositions, {len(ccc)} code points with a
// non-zero combining class ({len(set(ccc.values()))} classes), {len(pairs)} primary composites, {len(qc_no)} NFC_QC=No,
// {len(qc_maybe)} NFC_QC=Maybe, {len(hf_unknown)} unknown to Hugging Face tokenizers' NFC (NewerThanHfTokenizers).
// Two-level property table: {len(index)} block indexes, {len(data) >> shift} distinct blocks of {1 << shift} code points ({len(index) * (1 if index_type == 'byte' else 2) + len(data)} bytes).
// </auto-generated>
namespace Folio.Core.Text;

internal static class UnicodeNfcData
{{
    public const string UnicodeVersion = "{version}";

    /// <summary>Every code point below this has combining class 0 and NFC_QC=Yes.</summary>
    public const int QuickCheckYesBelow = 0x{quick_yes_below:X};

    /// <summary>Code points from here on have class 0 (combining class 0, NFC_QC=Yes, no decomposition).</summary>
    public const int TableLimit = 0x{limit:X};

    public const int BlockShift = {shift};

    /// <summary>Flags of a property class.</summary>
    public const byte QuickCheckNo = {QC_NO}, QuickCheckMaybe = {QC_MAYBE}, HasDecomposition = {HAS_DECOMPOSITION}, NewerThanHfTokenizers = {NEWER_THAN_HF};

    /// <summary>Per block of 2^BlockShift code points below TableLimit: its offset in BlockClasses, in blocks.</summary>
    public static ReadOnlySpan<{index_type}> BlockIndex =>
    [
{rows(index, str, 32)}
    ];

    /// <summary>The property class of each code point of each distinct block.</summary>
    public static ReadOnlySpan<byte> BlockClasses =>
    [
{rows(data, str, 32)}
    ];

    /// <summary>Per property class: the canonical combining class.</summary>
    public static ReadOnlySpan<byte> ClassCombining =>
    [
{rows([c for c, _ in classes], str, 32)}
    ];

    /// <summary>Per property class: QuickCheckNo | QuickCheckMaybe | HasDecomposition | NewerThanHfTokenizers.</summary>
    public static ReadOnlySpan<byte> ClassFlags =>
    [
{rows([f for _, f in classes], str, 32)}
    ];

    /// <summary>The code points with a canonical decomposition (Hangul syllables aside), ascending.</summary>
    public static ReadOnlySpan<int> DecompositionKeys =>
    [
{rows(keys, lambda v: f"0x{v:X}", 12)}
    ];

    /// <summary>One level of each mapping: its first code point...</summary>
    public static ReadOnlySpan<int> DecompositionFirst =>
    [
{rows([decomposition[k][0] for k in keys], lambda v: f"0x{v:X}", 12)}
    ];

    /// <summary>...and its second, or 0 for a singleton.</summary>
    public static ReadOnlySpan<int> DecompositionSecond =>
    [
{rows([decomposition[k][1] if len(decomposition[k]) == 2 else 0 for k in keys], lambda v: f"0x{v:X}", 12)}
    ];

    /// <summary>The primary composites' pairs as (first &lt;&lt; 21) | second, ascending.</summary>
    public static ReadOnlySpan<long> CompositionPairs =>
    [
{rows([(a << 21) | b for a, b in pairs], lambda v: f"0x{v:X}", 8)}
    ];

    /// <summary>The primary composite of each pair.</summary>
    public static ReadOnlySpan<int> CompositionResults =>
    [
{rows([composites[p] for p in pairs], lambda v: f"0x{v:X}", 12)}
    ];
}}
"""
    os.makedirs(os.path.dirname(DATA_CS), exist_ok=True)
    with open(DATA_CS, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return shift, len(index), len(data)


def hexes(cps):
    return " ".join(f"{cp:04X}" for cp in cps)


def write_single(qc_no):
    path = os.path.join(FIXTURES, "nfc_single.txt")
    checked = sum(1 for _ in code_points())
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# Generated by scripts/gen_unicode_nfc.py: Python {sys.version.split()[0]} unicodedata, Unicode {ud.unidata_version}.\n")
        f.write(f"# NFC of each code point 0..10FFFF but the surrogates ({checked} code points) as a one-code-point string:\n")
        f.write(f"# the {len(qc_no)} whose NFC differs from the input, as 'input;NFC' in hex. Every other one is its own NFC.\n")
        for cp in sorted(qc_no):
            f.write(f"{cp:04X};{hexes(nfc([cp]))}\n")


def write_sequences(decomposition, ccc, qc_no, qc_maybe, composites):
    rng = random.Random(15)   # fixed: the file must not change between runs
    marks_by_class = {}
    for cp, k in sorted(ccc.items()):
        marks_by_class.setdefault(k, []).append(cp)
    marks = sorted(ccc)
    cases = []

    def add(cps):
        cases.append(list(cps))

    # Each primary composite: its pair before a mark; a mark between of lower, equal and higher class than the
    # second (only a lower, non-zero class lets it compose); the composite itself before its own second and marks.
    common = [0x0301, 0x0316, 0x0327, 0x0334, 0x0345, 0x05B0, 0x093C, 0x0E48, 0x1D165]
    for (a, b), c in sorted(composites.items()):
        kb = ccc.get(b, 0)
        add([a, b, rng.choice(marks)])
        lower = [m for m in marks if 0 < ccc[m] < kb]
        same = marks_by_class.get(kb, [])
        higher = [m for m in marks if ccc[m] > kb] if kb else []
        for between in (lower, same, higher):
            if between:
                add([a, rng.choice(between), b])
        add([c, rng.choice(common), b, rng.choice(common)])
    # Every decomposable code point after a starter and before marks in the wrong order.
    for cp in sorted(decomposition):
        m1, m2 = rng.choice(marks), rng.choice(marks)
        add([0x61, cp, max(m1, m2, key=lambda m: ccc[m]), min(m1, m2, key=lambda m: ccc[m])])
    # Hangul: every L+V, L+V+T for a spread of T, LV+T, LVT+T (no composition), a lone V or T, and jamo mixed
    # with marks.
    for l in range(L_COUNT):
        for v in range(V_COUNT):
            add([L_BASE + l, V_BASE + v] + ([T_BASE + 1 + (l * V_COUNT + v) % (T_COUNT - 1)] if (l + v) % 2 else []))
    for t in range(T_COUNT - 1):
        lv = S_BASE + (rng.randrange(L_COUNT) * V_COUNT + rng.randrange(V_COUNT)) * T_COUNT
        add([lv, T_BASE + 1 + t])
        add([lv + 1 + t, T_BASE + 1 + rng.randrange(T_COUNT - 1)])
        add([lv, 0x0301, T_BASE + 1 + t])
        add([T_BASE + 1 + t, L_BASE, V_BASE])
    add([T_BASE])                         # U+11A7 is not a trailing consonant: LV + U+11A7 stays
    add([S_BASE, T_BASE])
    add([L_BASE + L_COUNT, V_BASE])       # U+1113 is not a leading consonant
    add([L_BASE, V_BASE + V_COUNT])       # U+1176 is not a vowel
    # Random mixes over a pool of everything that takes part.
    starters = sorted({a for a, _ in composites})
    pool = [
        lambda: rng.choice(starters), lambda: rng.choice(marks), lambda: rng.choice(marks),
        lambda: rng.choice(sorted(qc_maybe)), lambda: rng.choice(sorted(qc_no)),
        lambda: rng.choice(sorted(decomposition)), lambda: rng.choice([0x20, 0x41, 0x61, 0x3B, 0x3E, 0x3C, 0x3D]),
        lambda: L_BASE + rng.randrange(L_COUNT + 1), lambda: V_BASE + rng.randrange(V_COUNT + 1),
        lambda: T_BASE + rng.randrange(T_COUNT), lambda: S_BASE + rng.randrange(S_COUNT),
        lambda: rng.choice([0x1F600, 0x1D400, 0x20000, 0x10FFFF, 0x1D15E, 0x1D1BB, 0x11099, 0x1109A, 0x114BC, 0x1E94A]),
    ]
    for _ in range(2000):
        add([rng.choice(pool)() for _ in range(rng.randint(2, 9))])
    path = os.path.join(FIXTURES, "nfc_sequences.txt")
    changed = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# Generated by scripts/gen_unicode_nfc.py: Python {sys.version.split()[0]} unicodedata, Unicode {ud.unidata_version}.\n")
        f.write(f"# {len(cases)} sequences (composition pairs with marks between and after, decomposable code points before\n")
        f.write("# misordered marks, Hangul jamo, random mixes) as 'input;NFC' in hex, like NormalizationTest.txt's c1;c2.\n")
        for cps in cases:
            out = nfc(cps)
            changed += out != cps
            f.write(f"{hexes(cps)};{hexes(out)}\n")
    return len(cases), changed


def main():
    tables = build()
    hf_unknown = read_hf_skew(tables[1], tables[4])
    shift, blocks, data = write_tables(*tables, hf_unknown)
    os.makedirs(FIXTURES, exist_ok=True)
    write_single(tables[2])
    n, changed = write_sequences(*tables)
    print(f"Unicode {ud.unidata_version}: block shift {shift}, {blocks} block indexes, {data} class bytes; "
          f"{len(tables[2])} single code points change; {n} sequences ({changed} change); {len(hf_unknown)} unknown to tokenizers")


if __name__ == "__main__":
    main()
