namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A statement: renders text and/or changes variables.</summary>
internal abstract record Stmt(SourcePosition Position) : Node(Position);
