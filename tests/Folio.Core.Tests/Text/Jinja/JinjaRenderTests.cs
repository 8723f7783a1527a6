using Folio.Core.Text.Jinja;

namespace Folio.Core.Tests.Text.Jinja;

/// <summary>
/// The engine's behaviour, exact strings, without npm. The parity suite (scripts/test-suites/jinja.sh)
/// compares against @huggingface/jinja; these also cover what that reference lacks (raw blocks, tests with
/// arguments, select/reject, loop.cycle...), where Python Jinja's meaning is the expectation.
/// </summary>
public class JinjaRenderTests
{
    private const string Context = """
        {"name": "World", "n": 5, "f": 2.5, "items": [3, 1, 2], "words": ["banana", "Apple", "cherry"],
         "d": {"b": 1, "a": 2}, "t": true, "nothing": null, "empty": [],
         "users": [{"name": "ann", "active": true, "age": 31}, {"name": "bob", "active": false, "age": 25}],
         "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"}, {"role": "assistant", "content": "A1"}]}
        """;

    internal static string Render(string template, string contextJson = Context) =>
        JinjaTemplate.Parse(template).Render(JsonValues.Parse(contextJson).AsDict.Entries);

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("one trailing newline dropped\n", "one trailing newline dropped")]
    [InlineData("two\n\n", "two\n")]
    [InlineData("a{# comment #}b", "ab")]
    [InlineData("a  {#- c -#}  b", "ab")]
    [InlineData("a   {{- name }}", "aWorld")]
    [InlineData("{{ name -}}   \n  b", "Worldb")]
    [InlineData("{% if t %}\nyes\n{% endif %}\nafter", "yes\nafter")]
    [InlineData("start\n    {% if t %}\n    x\n    {% endif %}\nend", "start\n    x\nend")]
    [InlineData("text {% if t %}x{% endif %}", "text x")]
    [InlineData("{% raw %}{{ not evaluated }}{% endraw %}", "{{ not evaluated }}")]
    [InlineData("a {%- raw -%}  {% x %}  {%- endraw -%} b", "a{% x %}b")]
    [InlineData("A {%- generation -%} B {%- endgeneration %} C", "AB C")]
    public void Whitespace_control_comments_and_raw(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ n }} {{ f }} {{ 2.0 }} {{ 1 / 4 }} {{ 7 / 2 }}", "5 2.5 2.0 0.25 3.5")]
    [InlineData("{{ t }} {{ false }} [{{ nothing }}] [{{ missing }}]", "true false [] []")]
    [InlineData("{{ items }} {{ d }} {{ empty }}", "[3, 1, 2] {\"b\": 1, \"a\": 2} []")]
    [InlineData("{{ 'a' 'b' }} {{ 'tab\\there' }} {{ '\\u00e9' }}", "ab tab\there é")]
    [InlineData("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 10 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }}", "7 9 1024 3 -4 1")]
    [InlineData("{{ name ~ '!' ~ n }} {{ 'x' + 1 }} [{{ missing ~ 'y' }}]", "World!5 x1 [y]")]
    [InlineData("{{ 1 in items }} {{ 9 not in items }} {{ 'or' in name }} {{ 'a' in d }} {{ 'a' in missing }}", "true true true true false")]
    [InlineData("{{ t and 'yes' }} {{ nothing or 'fallback' }} {{ not t }}", "yes fallback false")]
    [InlineData("{{ 'big' if n > 3 else 'small' }} [{{ 'hidden' if not t }}]", "big []")]
    [InlineData("{{ 0.1 + 0.2 }} {{ 100000000000000000000.0 }} {{ 1 / 3 }}", "0.30000000000000004 100000000000000000000.0 0.3333333333333333")]
    [InlineData("{{ -9007199254740993 }} {{ -n }} {{ +t }} {{ -t }} {{ -f }}", "-9007199254740993 -5 1 -1 -2.5")]
    public void Expressions_and_printing(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ users[0].name }} {{ users[1]['age'] }} {{ d.a }} {{ items[-1] }} {{ name[0] }}", "ann 25 2 2 W")]
    [InlineData("[{{ d.zzz }}][{{ items[10] }}][{{ missing.attr }}][{{ nothing.attr }}]", "[][][][]")]
    [InlineData("{{ items[1:] }} {{ items[::-1] }} {{ name[1:3] }} {{ name[::-1] }} {{ items[-2:] }}", "[1, 2] [2, 1, 3] or dlroW [1, 2]")]
    [InlineData("{% for m in messages[1:] %}{{ m.role }},{% endfor %}", "user,assistant,")]
    [InlineData("{{ d.get('a') }} {{ d.get('z', 'dflt') }} [{{ d.get('z') }}] {{ d.keys() | list }} {{ d.values() | list }}", "2 dflt [] [\"b\", \"a\"] [1, 2]")]
    [InlineData("{{ name.upper() }} {{ name.lower() }} {{ name.startswith('Wo') }} {{ name.endswith(('x', 'ld')) }}", "WORLD world true true")]
    [InlineData("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a/b/c'.split('/', 1) }} {{ 'x-y'.replace('-', '+') }}", "[\"a\", \"b\", \"\", \"c\"] [\"a\", \"b\"] [\"a\", \"b/c\"] x+y")]
    [InlineData("[{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}]", "[x][x  ][  x]")]
    public void Members_slices_and_methods(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{% for w in words %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }} {% endfor %}",
        "1032truefalse3 2121falsefalse3 3210falsetrue3 ")]
    [InlineData("{% for i in items %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}", "[|1][3|2][1|]")]
    [InlineData("{% for i in items %}{{ loop.cycle('a', 'b') }}{% endfor %}", "aba")]
    [InlineData("{% for x in empty %}x{% else %}none{% endfor %}", "none")]
    [InlineData("{% for u in users if u.active %}{{ u.name }}{{ loop.length }}{% endfor %}", "ann1")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "b=1;a=2;")]
    [InlineData("{% for k in d %}{{ k }}{% endfor %}|{% for c in 'héllo' %}{{ c }}.{% endfor %}|{% for x in missing %}x{% endfor %}", "ba|h.é.l.l.o.|")]
    [InlineData("{% for i in range(10) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", "023")]
    [InlineData("{% set x = 'outer' %}{% for i in items %}{% set x = i %}{% endfor %}{{ x }}", "outer")]
    [InlineData("{% set ns = namespace(total=0) %}{% for i in items %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}", "6")]
    [InlineData("{% set a, b = 1, 'two' %}{{ a }}{{ b }}", "1two")]
    [InlineData("{% set block %}Hi {{ name }}{% endset %}[{{ block }}]", "[Hi World]")]
    [InlineData("{% if n < 3 %}low{% elif n < 7 %}mid{% else %}high{% endif %}", "mid")]
    public void Statements(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{% macro m(a, b=2, c='c') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }} {{ m(1, c='z') }}", "12c 13c 12z")]
    [InlineData("{% macro m(a) %}{{ a }}{{ kwargs }}{{ varargs }}{% endmacro %}{{ m(1, 2, x=3) }}", "1{\"x\": 3}[2]")]
    [InlineData("{% macro f(k) %}{% if k <= 1 %}1{% else %}{{ k }}*{{ f(k - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "3*2*1")]
    [InlineData("{% macro wrap(t) %}<{{ t }}>{{ caller() }}</{{ t }}>{% endmacro %}{% call wrap('b') %}in {{ name }}{% endcall %}", "<b>in World</b>")]
    [InlineData("{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(i) each(items) %}[{{ i }}]{% endcall %}", "[3][1][2]")]
    [InlineData("{% filter upper %}shout {{ name }}{% endfilter %}", "SHOUT WORLD")]
    [InlineData("{% macro m(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ m('x') }}", "x!")]
    public void Macros_call_and_filter_blocks(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ n is number }}{{ n is integer }}{{ f is integer }}{{ name is string }}{{ d is mapping }}{{ items is iterable }}{{ d is iterable }}", "truetruefalsetruetruetruefalse")]
    [InlineData("{{ missing is defined }}{{ missing is undefined }}{{ nothing is none }}{{ t is true }}{{ t is false }}{{ t is boolean }}", "falsetruetruetruefalsetrue")]
    [InlineData("{{ 3 is odd }}{{ 3 is even }}{{ 9 is divisibleby(3) }}{{ n is eq(5) }}{{ n is ne(5) }}{{ name is not string }}", "truefalsetruetruefalsefalse")]
    [InlineData("{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ range is callable }}", "truetruetrue")]
    public void Tests(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("[{{ '  x \\n' | trim }}] {{ name | upper }} {{ name | lower }} {{ 'a big day' | title }} {{ 'hELLO' | capitalize }}", "[x] WORLD world A Big Day HELLO")]
    [InlineData("{{ items | length }} {{ name | count }} {{ d | length }} {{ words | join(', ') }} {{ items | join }}", "3 5 2 banana, Apple, cherry 312")]
    [InlineData("{{ items | first }} {{ items | last }} {{ items | reverse }} {{ items | sort }} {{ words | sort }} {{ items | sort(reverse=true) }}", "3 2 [2, 1, 3] [1, 2, 3] [\"Apple\", \"banana\", \"cherry\"] [3, 2, 1]")]
    [InlineData("{{ missing | default('x') }} {{ '' | default('y', true) }} {{ name | d('z') }} {{ [1, 2, 1] | unique }}", "x y World [1, 2]")]
    [InlineData("{{ '42' | int }} {{ '4.5x' | float }} {{ 'z' | int(7) }} {{ 3.9 | int }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }}", "42 4.5 7 3 3 2.57 3.0")]
    [InlineData("{{ users | selectattr('active') | map(attribute='name') | join }} {{ users | rejectattr('active') | map(attribute='name') | join }}", "ann bob")]
    [InlineData("{{ users | selectattr('name', 'equalto', 'bob') | map(attribute='age') | first }} {{ users | sort(attribute='age') | map(attribute='name') | join(',') }}", "25 bob,ann")]
    [InlineData("{{ items | select('odd') | list }} {{ items | reject('odd') | list }} {{ words | map('upper') | join(',') }}", "[3, 1] [2] BANANA,APPLE,CHERRY")]
    [InlineData("{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %} {% for p in d | items %}{{ p[0] }}{% endfor %}", "a2b1 ba")]
    [InlineData("{{ 'l1\\nl2\\n\\nl4' | indent }}|{{ 'a\\nb' | indent(2, true) }}", "l1\n    l2\n\n    l4|  a\n  b")]
    [InlineData("{{ 'aaa' | replace('a', 'b', 2) }} {{ '<a href=\"x\">' | e }} {{ '<b>' | safe }} {{ n | string }} {{ t | string }}", "bba &lt;a href=&#34;x&#34;&gt; <b> 5 true")]
    public void Filters(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ d | tojson }}", "{\"b\": 1, \"a\": 2}")]
    [InlineData("{{ 'é\"\\\\\\n\\u0001😀' | tojson }}", "\"é\\\"\\\\\\n\\u0001😀\"")]
    [InlineData("{{ [1.0, 2.5, nothing, t, missing] | tojson }}", "[1, 2.5, null, true, null]")]
    [InlineData("{{ {'a': [1, {'b': []}], 'c': {}} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}")]
    [InlineData("{{ d | tojson(sort_keys=true) }} {{ d | tojson(separators=[',', ':']) }} {{ 'é' | tojson(ensure_ascii=true) }}", "{\"a\": 2, \"b\": 1} {\"b\":1,\"a\":2} \"\\u00e9\"")]
    public void Tojson_matches_python_json_dumps_layout(string template, string expected) =>
        Assert.Equal(expected, Render(template));

    [Fact]
    public void Strftime_now_reads_the_given_clock()
    {
        var t = JinjaTemplate.Parse("{{ strftime_now('%d %b %Y, %B %m %H:%M %%') }}");
        Assert.Equal("05 Mar 2026, March 03 07:09 %", t.Render([], () => new DateTime(2026, 3, 5, 7, 9, 0)));
    }

    [Fact]
    public void Json_numbers_become_ints_when_integral_as_javascript_sees_them()
    {
        var v = JsonValues.Parse("[1, 1.0, 2.5, -0.0, 12345678901234, 1e400]");
        Assert.Equal([JinjaValueKind.Int, JinjaValueKind.Int, JinjaValueKind.Float, JinjaValueKind.Int, JinjaValueKind.Int, JinjaValueKind.Float], v.AsList.Select(x => x.Kind));
        Assert.Equal("1 1 2.5 12345678901234", Render("{{ v[0] }} {{ v[1] }} {{ v[2] }} {{ v[4] }}", "{\"v\": [1, 1.0, 2.5, -0.0, 12345678901234]}"));
    }

    [Theory]
    [InlineData("{{ 'a' ~ [1] }}", "cannot concatenate a list value to a string")]
    [InlineData("{{ 'a' + {} }}", "cannot concatenate a dict value to a string")]
    [InlineData("{{ 1.5 % 0 }}", "modulo by zero")]
    public void Javascript_artefacts_of_the_reference_are_refused(string template, string message) =>
        Assert.Equal(message, Assert.Throws<TemplateException>(() => Render(template)).Detail);

    [Theory]
    [InlineData("{{ 'a/b/c'.rsplit('/', 1) }} {{ 'a/b/c'.rsplit('/') }} {{ ' a  b c '.rsplit(none, 1) }} {{ 'a b'.rsplit() }}", "[\"a/b\", \"c\"] [\"a\", \"b\", \"c\"] [\" a  b\", \"c\"] [\"a\", \"b\"]")]
    [InlineData("{{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'banana'.count('an') }} {{ 'ab'.count('') }}", "2 -1 2 3")]
    public void Python_only_string_methods(string template, string expected) =>
        Assert.Equal(expected, Render(template));
}
