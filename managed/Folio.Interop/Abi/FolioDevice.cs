namespace Folio.Interop.Abi;

/// <summary>Mirror of <c>enum folio_device</c> in folio.h.</summary>
public enum FolioDevice
{
    Cpu = 0,
    Cuda = 1,
}
