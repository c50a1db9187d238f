namespace Delta.Abstractions.Patches;

public enum PatchErrorKind
{
    NotFound,
    /// <summary>File shorter than its header says, or cut inside a section.</summary>
    Truncated,
    /// <summary>Checksum mismatch or unparsable content: the file was altered or damaged.</summary>
    Corrupt,
    UnsupportedFormatVersion,
    WrongArchitecture,
    WrongBaseWeights,
    /// <summary>Tensor names or shapes do not match the module the patch is loaded into.</summary>
    Incompatible,
    AlreadyExists,
}
