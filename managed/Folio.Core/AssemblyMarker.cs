namespace Folio.Core;

/// <summary>Names this assembly from code that must find it (tests, reflection-free lookups).</summary>
public static class AssemblyMarker;
