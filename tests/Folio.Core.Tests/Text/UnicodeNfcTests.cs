using System.Globalization;
using System.Text;
using Folio.Core.Text;

namespace Folio.Core.Tests.Text;

/// <summary>
/// <see cref="UnicodeNfc"/> against Python's <c>unicodedata.normalize('NFC', ...)</c> (Unicode 14.0.0): every code
/// point on its own, and 9,047 sequences of composition pairs, misordered marks, Hangul jamo and random mixes.
/// Both files are written by scripts/gen_unicode_nfc.py straight from <c>unicodedata.normalize</c>, not from the
/// tables UnicodeNfc reads.
/// </summary>
[Collection(nameof(AllocationCollection))]
public sealed class UnicodeNfcTests
{
    private static string FixtureDir { get; } = FindFixtures();

    private static string FindFixtures()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", "unicode");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures/unicode not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The 'input;NFC' lines of a fixture (hex code points), comments skipped.</summary>
    private static List<(string Input, string Expected)> ReadCases(string file) =>
        File.ReadLines(Path.Combine(FixtureDir, file))
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split(';'))
            .Select(p => (FromHex(p[0]), FromHex(p[1])))
            .ToList();

    private static string FromHex(string hex) =>
        string.Concat(hex.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(h => char.ConvertFromUtf32(int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));

    private static string Hex(string s)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1)
            sb.Append(CultureInfo.InvariantCulture, $"{(sb.Length > 0 ? " " : "")}{char.ConvertToUtf32(s, i):X4}");
        return sb.ToString();
    }

    [Fact]
    public void StringNormalizeDoesNothingUnderInvariantGlobalization()
    {
        // Why UnicodeNfc exists: with InvariantGlobalization (Directory.Build.props) .NET has no normalization data.
        Assert.Equal("e\u0301", "e\u0301".Normalize(NormalizationForm.FormC));
        Assert.Equal("\u212B", "\u212B".Normalize(NormalizationForm.FormC));
        Assert.Equal("\u00C5", UnicodeNfc.Normalize("\u212B"));
        Assert.Equal("14.0.0", UnicodeNfc.UnicodeVersion);
    }

    [Fact]
    public void EveryCodePointAloneNormalizesAsPython()
    {
        var changed = ReadCases("nfc_single.txt").ToDictionary(c => char.ConvertToUtf32(c.Input, 0), c => c.Expected);
        Assert.Equal(1120, changed.Count);
        var mismatches = new List<string>();
        int checkedCount = 0, sameInstance = 0;
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
                continue;
            string s = char.ConvertFromUtf32(cp);
            string expected = changed.TryGetValue(cp, out var e) ? e : s;
            string actual = UnicodeNfc.Normalize(s);
            checkedCount++;
            if (actual != expected)
                mismatches.Add($"{cp:X4}: folio {Hex(actual)} python {Hex(expected)}");
            else if (ReferenceEquals(actual, s))
                sameInstance++;
        }
        Assert.Equal(0x110000 - 0x800, checkedCount);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} code points differ, e.g.\n" + string.Join("\n", mismatches.Take(10)));
        // Whatever NFC leaves alone comes back as the very same string.
        Assert.Equal(checkedCount - changed.Count, sameInstance);
    }

    [Fact]
    public void SequencesNormalizeAsPython()
    {
        var cases = ReadCases("nfc_sequences.txt");
        Assert.Equal(9047, cases.Count);
        Assert.True(cases.Count(c => c.Input != c.Expected) > 6000);
        var mismatches = new List<string>();
        foreach (var (input, expected) in cases)
        {
            string actual = UnicodeNfc.Normalize(input);
            if (actual != expected)
                mismatches.Add($"{Hex(input)}: folio {Hex(actual)} python {Hex(expected)}");
            // NFC is idempotent, and an NFC string comes back as itself.
            if (!ReferenceEquals(UnicodeNfc.Normalize(expected), expected))
                mismatches.Add($"{Hex(expected)} (NFC already) was not returned as is");
            // Text before a safe starter is kept as is: the same sequence after ASCII normalizes the same.
            if (UnicodeNfc.Normalize("ab " + input) != "ab " + expected)
                mismatches.Add($"'ab ' + {Hex(input)} differs from 'ab ' + its NFC");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} failures, e.g.\n" + string.Join("\n", mismatches.Take(10)));
    }

    [Fact]
    public void AllSequencesInOneTextNormalizeSegmentBySegment()
    {
        // A line feed is a safe starter (class 0, NFC_QC=Yes, composes with nothing), so the NFC of the lines joined
        // is their NFCs joined: one long text through the segment-by-segment slow path, NFC parts copied as they are.
        var cases = ReadCases("nfc_sequences.txt");
        string text = string.Join("\n", cases.Select(c => c.Input));
        string expected = string.Join("\n", cases.Select(c => c.Expected));
        string actual = UnicodeNfc.Normalize(text);
        Assert.True(actual == expected, $"first difference at char {actual.Zip(expected).TakeWhile(p => p.First == p.Second).Count()}");
        Assert.Same(expected, UnicodeNfc.Normalize(expected));
    }

    [Fact]
    public void HfTokenizersModeIgnoresOnlyWhatTokenizersDoesNotKnow()
    {
        // hf_tokenizers_nfc_skew.txt (made with tokenizers 0.23.2 against Node's ICU) lists the marks tokenizers gives
        // class 0; those this Unicode version knows reorder in Normalize and stay put in NormalizeAsHfTokenizers.
        var lines = File.ReadLines(Path.Combine(FixtureDir, "hf_tokenizers_nfc_skew.txt")).Where(l => !l.StartsWith('#')).ToList();
        var marks = lines.Where(l => l.StartsWith("mark;", StringComparison.Ordinal)).Select(l => FromHex(l[5..])).ToList();
        int known = 0;
        foreach (string m in marks)
            foreach (string probe in (string[])[" " + m + "\u0334", " \u0301" + m])   // class 1 after it, class 230 before it
            {
                Assert.Same(probe, UnicodeNfc.NormalizeAsHfTokenizers(probe));
                if (UnicodeNfc.Normalize(probe) != probe)
                {
                    known++;
                    break;
                }
            }
        Assert.Equal(154, marks.Count);
        Assert.Equal(98, known);   // the others are newer than Unicode 14.0: no class in either mode
        // The one composition of Unicode 10-14 that tokenizers does not make (Dives Akuru, Unicode 13).
        Assert.Contains("pair;11935 11930;11938", lines);
        Assert.Equal("\U00011938", UnicodeNfc.Normalize("\U00011935\U00011930"));
        Assert.Equal("\U00011935\U00011930", UnicodeNfc.NormalizeAsHfTokenizers("\U00011935\U00011930"));
        Assert.Equal("\U00011938\u0334", UnicodeNfc.NormalizeAsHfTokenizers("\U00011938\u0334"));
        // Everywhere else the two agree: every sequence without a flagged code point normalizes as Python does.
        var flagged = marks.Concat(["\U00011930", "\U00011938"]).ToHashSet();
        var cases = ReadCases("nfc_sequences.txt").Where(c => !flagged.Any(f => c.Input.Contains(f, StringComparison.Ordinal))).ToList();
        Assert.Equal(8207, cases.Count);   // of 9,047, as counted from the files
        Assert.All(cases, c => Assert.Equal(Hex(c.Expected), Hex(UnicodeNfc.NormalizeAsHfTokenizers(c.Input))));
    }

    [Theory]
    [InlineData("e\u0301", "\u00E9")]                       // composition
    [InlineData("\u212B", "\u00C5")]                         // singleton ANGSTROM SIGN -> Å
    [InlineData("\u2126", "\u03A9")]                         // singleton OHM SIGN -> Ω
    [InlineData("\u037E", ";")]                              // singleton GREEK QUESTION MARK -> ASCII semicolon
    [InlineData("\u0958", "\u0915\u093C")]                   // composition exclusion: क़ stays decomposed
    [InlineData("\u0915\u093C", "\u0915\u093C")]
    [InlineData("\u0344", "\u0308\u0301")]                   // non-starter decomposition
    [InlineData("e\u0323\u0302", "\u1EC7")]                  // ệ from either order of its marks
    [InlineData("e\u0302\u0323", "\u1EC7")]
    [InlineData("\u00EA\u0323", "\u1EC7")]
    [InlineData("a\u0301\u0301", "\u00E1\u0301")]            // the second acute is blocked by the first
    [InlineData("a\u0316\u0301", "\u00E1\u0316")]            // a lower class between does not block
    [InlineData("\u1100\u1161\u11A8", "\uAC01")]            // Hangul L+V+T -> LVT
    [InlineData("\uAC00\u11A8", "\uAC01")]                   // LV + T
    [InlineData("\uAC01\u11A8", "\uAC01\u11A8")]            // LVT + T does not compose
    [InlineData("\uAC00\u11A7", "\uAC00\u11A7")]            // U+11A7 is not a trailing consonant
    [InlineData("\u1100\u0301\u1161", "\u1100\u0301\u1161")] // a mark between L and V blocks (V is a starter)
    [InlineData("<\u0338", "\u226E")]                        // ASCII + combining overlay composes
    [InlineData("\U0001D15E", "\U0001D157\U0001D165")]       // astral composition exclusion
    [InlineData("\U00011099\U000110BA", "\U0001109A")]      // astral primary composite
    [InlineData("\uD800a\u0301", "\uD800\u00E1")]            // an unpaired surrogate passes through
    [InlineData("a\u0301\uDC00", "\u00E1\uDC00")]
    [InlineData("\u0301a", "\u0301a")]                       // a leading mark has no starter to join
    [InlineData("", "")]
    public void KnownCases(string input, string expected) => Assert.Equal(Hex(expected), Hex(UnicodeNfc.Normalize(input)));

    [Theory]
    [InlineData("plain ASCII, with digits 0123 and punctuation!?\n\t")]
    [InlineData("café naïve Ångström Œuvre façade ß")]
    [InlineData("Привет, мир. Γειά σου κόσμε. שלום")]
    [InlineData("日本語のテキスト、中文文本，한국어 텍스트")]
    [InlineData("emoji 🙂😀 and 𝐀𝐁𝐂 math")]
    [InlineData("Tiếng Việt có dấu")]
    public void QuickCheckYesTextIsReturnedWithoutAllocating(string text)
    {
        Assert.True(UnicodeNfc.IsQuickCheckYes(text));
        // Warm up so that JIT and tiering do not count.
        for (int i = 0; i < 200; i++)
            Assert.Same(text, UnicodeNfc.Normalize(text));
        // Three windows of 1,000 calls: an allocation in Normalize shows in every window (24 KB or more each), while a
        // one-off of the runtime's (tiered recompilation, a collection between the two counter reads under load: the
        // suite once saw 1,120 bytes) shows in one at most. So one window must be exactly 0.
        var windows = new long[3];
        int same = 0;
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
                same += ReferenceEquals(text, UnicodeNfc.Normalize(text)) ? 1 : 0;
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(3000, same);
        Assert.True(windows.Min() == 0, $"bytes allocated per 1,000 calls in each window: {string.Join(", ", windows)}");
    }

    [Fact]
    public void MaybeTextThatIsNfcComesBackAsItself()
    {
        // U+0301 alone is NFC_QC=Maybe (it could join a starter), so the slow path runs and finds nothing to change.
        string text = "x \u0301 y\u0338";
        Assert.False(UnicodeNfc.IsQuickCheckYes(text));
        Assert.Same(text, UnicodeNfc.Normalize(text));
    }

    [Fact]
    public void MisorderedMarksFailTheQuickCheck()
    {
        // U+0316 (class 220) and U+0305 (230) never compose (NFC_QC=Yes), so only their order decides.
        Assert.True(UnicodeNfc.IsQuickCheckYes("a\u0316\u0305"));
        Assert.False(UnicodeNfc.IsQuickCheckYes("a\u0305\u0316"));
        Assert.Equal(Hex("a\u0316\u0305"), Hex(UnicodeNfc.Normalize("a\u0305\u0316")));
        // U+0300 is NFC_QC=Maybe: a+0316+0300 composes around the lower class.
        Assert.False(UnicodeNfc.IsQuickCheckYes("a\u0316\u0300"));
        Assert.Equal(Hex("\u00E0\u0316"), Hex(UnicodeNfc.Normalize("a\u0316\u0300")));
    }
}
