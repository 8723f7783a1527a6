namespace Folio.Interop.Runtime;

/// <summary>The type tag encoded in every handle, so a handle of one type passed as another is refused.</summary>
public enum HandleKind
{
    Engine = 1,
    KvManager = 2,
    Scheduler = 3,
    StepPlan = 4,
    Outputs = 5,
}
