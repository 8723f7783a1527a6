namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A node of a parsed template; <see cref="Position"/> is where its source begins.</summary>
internal abstract record Node(SourcePosition Position);
