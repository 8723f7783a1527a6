using Folio.Core.Text.Jinja;

namespace Folio.Core.Tests.Text.Jinja;

/// <summary>Unsupported constructs and runtime errors fail with the construct and its line:column; nothing renders wrong text.</summary>
public class JinjaErrorTests
{
    private static TemplateException Fails(string template, string context = "{}") =>
        Assert.Throws<TemplateException>(() => JinjaRenderTests.Render(template, context));

    [Theory]
    [InlineData("{% include 'x.j2' %}", "unsupported statement '{% include %}'", 1, 4)]
    [InlineData("a\n  b {% extends 'base' %}", "unsupported statement '{% extends %}'", 2, 8)]
    [InlineData("{% block body %}{% endblock %}", "unsupported statement '{% block %}'", 1, 4)]
    [InlineData("{% with a = 1 %}{% endwith %}", "unsupported statement '{% with %}'", 1, 4)]
    [InlineData("{% for x in y recursive %}{% endfor %}", "unsupported construct 'recursive' loop", 1, 15)]
    [InlineData("{{ f(*args) }}", "unsupported construct: argument unpacking ('*' / '**')", 1, 6)]
    [InlineData("{{ 'x' | nosuch }}", "filter 'nosuch' cannot be applied to a string value", 1, 8)]
    [InlineData("\n\n   {{ 1 is nosuch }}", "unsupported test 'nosuch'", 3, 9)]
    public void Unsupported_constructs_name_the_construct_and_position(string template, string message, int line, int column)
    {
        var e = Fails(template);
        Assert.Equal(message, e.Detail);
        Assert.Equal(new SourcePosition(line, column), e.Position);
        Assert.StartsWith($"{line}:{column}: ", e.Message);
    }

    [Theory]
    [InlineData("{% if x %}never closed", "'{% if %}' is never closed (expected '{% endif %}')", 1, 1)]
    [InlineData("{% endfor %}", "unexpected '{% endfor %}' (no block is open)", 1, 1)]
    [InlineData("{% for x in y %}{% endif %}{% endfor %}", "unexpected '{% endif %}' inside '{% for %}'", 1, 17)]
    [InlineData("{{ 'unterminated }}", "unterminated string literal", 1, 4)]
    [InlineData("{{ x ", "unclosed '{{' expression", 1, 1)]
    [InlineData("{# no end", "unclosed comment: '{#' without '#}'", 1, 1)]
    [InlineData("{{ a ? b }}", "unexpected character '?'", 1, 6)]
    [InlineData("{% break %}", "'{% break %}' outside a loop", 1, 1)]
    public void Syntax_errors_have_positions(string template, string message, int line, int column)
    {
        var e = Fails(template);
        Assert.Equal(message, e.Detail);
        Assert.Equal(new SourcePosition(line, column), e.Position);
    }

    [Theory]
    [InlineData("{{ missing + 1 }}", "'+' is not defined for an undefined value")]
    [InlineData("{{ nothing + 1 }}", "'+' is not defined for none")]
    [InlineData("{{ missing() }}", "unknown function 'missing'")]
    [InlineData("{{ 'x'.format(1) }}", "unknown method 'format' of a string value")]
    [InlineData("{{ nothing.items() }}", "unknown method 'items' of a none value")]
    [InlineData("{{ 1 / 0 }}", "division by zero")]
    [InlineData("{{ 9223372036854775807 + 1 }}", "integer overflow")]
    [InlineData("{{ 3037000500 * 3037000500 }}", "integer overflow")]
    [InlineData("{{ 2 ** 64 }}", "integer overflow")]
    [InlineData("{{ -(-9223372036854775807 - 1) }}", "integer overflow")]
    [InlineData("{{ (1, 2) }}", "cannot convert a tuple to JSON or print it")]
    [InlineData("{% for a, b in [1] %}{% endfor %}", "cannot unpack a int value into 2 loop variables")]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "cannot set an attribute on a int value (only on a namespace())")]
    [InlineData("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "macro 'm' takes at most 1 argument(s), got 2")]
    [InlineData("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "calls nested deeper than 256 (runaway macro recursion?)")]
    public void Runtime_errors_are_exceptions(string template, string message) =>
        Assert.Equal(message, Fails(template, "{\"nothing\": null}").Detail);

    [Fact]
    public void Raise_exception_carries_the_templates_message_and_position()
    {
        var e = Fails("line one\n{% if true %}{{ raise_exception('Roles must alternate') }}{% endif %}");
        Assert.Equal("Roles must alternate", e.Detail);
        Assert.True(e.RaisedByTemplate);
        Assert.Equal(new SourcePosition(2, 17), e.Position);
    }

    [Fact]
    public void Deep_nesting_and_self_containing_values_fail_instead_of_overflowing_the_stack()
    {
        string deep = "{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}";
        Assert.Equal("the template nests too deeply", Assert.Throws<TemplateException>(() => JinjaTemplate.Parse(deep)).Detail);
        var e = Fails("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns | tojson }}");
        Assert.Equal("the value nests too deeply (or contains itself) to convert to JSON", e.Detail);
    }
}
